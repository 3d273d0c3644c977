package io.lodestar.server.storage;

import io.lodestar.server.tls.PeerTls;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.util.SizeInBytes;

/**
 * How a node's Raft server and the Raft clients it builds reach the other members: Ratis' RPC
 * choice as settings ({@link RaftProperties} keys, applied to the server's and every client's
 * properties) plus the objects that RPC reads ({@link Parameters}, shared by all of them).
 *
 * <p>A node uses {@link #grpc}: Ratis' gRPC on the member's Raft port, mutual TLS under
 * {@code --tls-client-ca}. Tests run several {@link RaftLog}s in one JVM over Ratis' simulated RPC
 * from its test jar, which production code does not depend on (SimulatedClusterTest).
 *
 * @param description for the start log line, e.g. {@code raft 127.0.0.1:8701, mutual TLS}
 * @param settings applied to the server's properties (after RaftLog's own) and to each client's
 * @param parameters the RPC's objects (gRPC: the TLS configuration, if any)
 */
public record RaftTransport(String description, Consumer<RaftProperties> settings, Parameters parameters) {
  public RaftTransport {
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(parameters, "parameters");
  }

  /**
   * Ratis' gRPC on {@code self}'s Raft address, with messages large enough for the largest entry.
   *
   * @param tls the node's TLS towards other members; when it is mutual ({@code --tls-client-ca}),
   *     Raft traffic is mutual TLS with the same certificate and trust, so only holders of a
   *     member certificate take part in it (docs/security.md#raft-over-tls); null or one-way: plaintext
   */
  public static RaftTransport grpc(ClusterConfig.Member self, PeerTls tls) {
    Parameters parameters = new Parameters();
    boolean mutual = tls != null && tls.mutual();
    if (mutual) {
      GrpcConfigKeys.TLS.setConf(parameters, new GrpcTlsConfig(tls.keyManager(), tls.trustManager(), true));
    }
    return new RaftTransport("raft " + self.raftAddress() + (mutual ? ", mutual TLS" : ""), p -> {
      GrpcConfigKeys.Server.setHost(p, self.host());
      GrpcConfigKeys.Server.setPort(p, self.raftPort());
      GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(RaftLog.MAX_ENTRY_BYTES + (1 << 20)));
    }, parameters);
  }

  /** Whether Raft traffic runs over mutual TLS. */
  public boolean tls() {
    return GrpcConfigKeys.TLS.conf(parameters) != null;
  }

  /** New properties for a Raft client of this node: the transport's settings on Ratis' defaults. */
  RaftProperties clientProperties() {
    RaftProperties p = new RaftProperties();
    settings.accept(p);
    return p;
  }
}
