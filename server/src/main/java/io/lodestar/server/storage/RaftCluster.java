package io.lodestar.server.storage;

import io.lodestar.api.v1.state.CommandBatch;
import io.lodestar.core.LodestarException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Administration of a node's cluster, beside its {@link RaftLog}: who the members are (and their
 * client addresses), membership changes, backup and restore through the log, and whether a lease
 * holder is alive as the leader sees it. The log itself only takes writes.
 */
public final class RaftCluster {
  private static final Logger log = LoggerFactory.getLogger(RaftCluster.class);

  /** One member as this node sees it. */
  public record Peer(String id, String clientAddress, String raftAddress) {}

  private final RaftLog raftLog;

  RaftCluster(RaftLog raftLog) {
    this.raftLog = raftLog;
  }

  /** This node's state, for {@code /v1/cluster}. */
  public String nodeId() {
    return raftLog.nodeId();
  }

  public String role() {
    return raftLog.role();
  }

  public long term() {
    return raftLog.term();
  }

  public String leaderId() {
    return raftLog.leaderId();
  }

  public long appliedIndex() {
    return raftLog.appliedIndex();
  }

  public boolean isLeaderReady() {
    return raftLog.isLeaderReady();
  }

  /** The highest index this node knows committed. */
  public long commitIndex() {
    return raftLog.commitIndex();
  }

  /** Why this node has stopped applying for good, or null (see {@code ApplyStall}). */
  public String applyStall() {
    return raftLog.applyStall();
  }

  /** The voting members of the current configuration, sorted by id. */
  public List<Peer> members() {
    Collection<RaftPeer> peers = raftLog.division().getRaftConf().getCurrentPeers();
    return peers.stream().map(p -> new Peer(p.getId().toString(), p.getDataStreamAddress(), p.getAddress()))
        .sorted(java.util.Comparator.comparing(Peer::id)).toList();
  }

  /**
   * On the leader: how long ago each follower last answered, by id. Empty on a follower. A
   * lease holder that has not answered for a while is presumed gone.
   */
  public Map<String, Long> followerSilenceMillis() {
    RoleInfoProto info = raftLog.division().getInfo().getRoleInfoProto();
    if (!info.hasLeaderInfo()) {
      return Map.of();
    }
    Map<String, Long> out = new java.util.HashMap<>();
    for (ServerRpcProto f : info.getLeaderInfo().getFollowerInfoList()) {
      out.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
    }
    return out;
  }

  /** After this long without answering the leader, a lease holder is presumed gone. */
  static final long HOLDER_GONE_MILLIS = 5000;

  /**
   * Whether a lease holder is alive, as the leader sees it: a current member that answered within
   * {@link #HOLDER_GONE_MILLIS}. An instance with no holder has nobody deciding it: not alive.
   */
  public boolean holderAlive(String holder) {
    if (holder.isEmpty()) {
      return false;
    }
    if (holder.equals(raftLog.nodeId())) {
      return true;
    }
    if (members().stream().noneMatch(p -> p.id().equals(holder))) {
      return false;
    }
    Long silence = followerSilenceMillis().get(holder);
    return silence != null && silence < HOLDER_GONE_MILLIS;
  }

  /** Adds a member (the new node must be running with --join); one at a time. */
  public void addMember(ClusterConfig.Member m) throws IOException {
    List<RaftPeer> next = new ArrayList<>(raftLog.division().getRaftConf().getCurrentPeers());
    if (next.stream().anyMatch(p -> p.getId().toString().equals(m.id()))) {
      throw new LodestarException(LodestarException.Code.ALREADY_EXISTS, "node " + m.id() + " is already a member", "id");
    }
    next.add(RaftLog.toPeer(m));
    setConfiguration(next);
  }

  /** Removes a member; one at a time. */
  public void removeMember(String id) throws IOException {
    List<RaftPeer> current = new ArrayList<>(raftLog.division().getRaftConf().getCurrentPeers());
    List<RaftPeer> next = current.stream().filter(p -> !p.getId().toString().equals(id)).toList();
    if (next.size() == current.size()) {
      throw LodestarException.notFound("node " + id + " is not a member");
    }
    if (next.isEmpty()) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "cannot remove the last member", "id");
    }
    setConfiguration(next);
  }

  private void setConfiguration(List<RaftPeer> peers) throws IOException {
    try (RaftClient admin = RaftClient.newBuilder().setProperties(raftLog.transport().clientProperties())
        .setParameters(raftLog.transport().parameters()).setRaftGroup(RaftGroup.valueOf(RaftLog.GROUP_ID, raftLog.division().getRaftConf().getCurrentPeers()))
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(50,
            TimeDuration.valueOf(200, TimeUnit.MILLISECONDS))).build()) {
      RaftClientReply reply;
      try {
        reply = admin.admin().setConfiguration(peers);
      } catch (IOException e) {
        throw new LodestarException(LodestarException.Code.UNAVAILABLE, "membership change failed: " + e.getMessage(),
            null);
      }
      if (!reply.isSuccess()) {
        throw new LodestarException(LodestarException.Code.UNAVAILABLE,
            "membership change failed: " + reply.getException(), null);
      }
    }
    log.info("Membership is now {}", peers.stream().map(p -> p.getId().toString()).toList());
  }

  /**
   * Writes a backup of the whole state (a {@code RaftSnapshot} file with its checksum) to
   * {@code file}, atomically and streamed ({@link RaftSnapshotFile}); returns the log index it reflects.
   */
  public long backup(Path file) throws IOException {
    return raftLog.adapter().backupTo(file);
  }

  /**
   * Replaces the state of the whole cluster with a backup, through the log: every node applies it
   * at the same index. Deflated, it must fit in one entry ({@link RaftLog#MAX_ENTRY_BYTES}, less
   * room for the entry's own framing), else it is refused as too large before anything is written.
   * {@code state} is a {@code StateSnapshot}'s bytes ({@code size} of them), read once and closed
   * here; the caller checked that they read as one. Completes, with the entry's size in bytes,
   * once this node applied it.
   */
  public CompletableFuture<Long> restore(java.io.InputStream state, long size) throws IOException {
    long room = RaftLog.MAX_ENTRY_BYTES - RESTORE_FRAMING_BYTES;
    if (raftLog.stateFeatureLevel() < 1) {
      return restoreWhole(state, size, room);
    }
    com.google.protobuf.ByteString deflated = deflate(state, room);
    if (deflated == null) {
      throw new LodestarException(LodestarException.Code.TOO_LARGE, "the backup is more than " + mib(room)
          + " MiB deflated (" + mib(size) + " MiB as stored), over what a restore entry carries", "name");
    }
    return replicateRestore(CommandBatch.newBuilder().setRestoreDeflated(deflated).build(), deflated.size());
  }

  /** Sends a restore's entry to every node; completes with {@code entryBytes} once this node applied it. */
  private CompletableFuture<Long> replicateRestore(CommandBatch entry, long entryBytes) {
    return raftLog.replicate(entry).thenCompose(reply -> raftLog.adapter().whenApplied(reply.getLogIndex()))
        .thenApply(v -> entryBytes);
  }

  /**
   * Below feature level 1 a member may run a version that reads only a restore sent whole, as a
   * {@code StateSnapshot} in the entry: the backup must then fit in one entry as it is stored.
   */
  private CompletableFuture<Long> restoreWhole(java.io.InputStream state, long size, long room) throws IOException {
    io.lodestar.api.v1.state.StateSnapshot whole;
    try (state) {
      if (size > room) {
        throw new LodestarException(LodestarException.Code.TOO_LARGE, "the backup is " + mib(size) + " MiB, and "
            + "while a member runs an older version (feature level 0) a restore is sent whole, in one entry of at "
            + "most " + mib(room) + " MiB; restore it once every member runs this version (sent deflated)", "name");
      }
      com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(state);
      in.setSizeLimit(Integer.MAX_VALUE);
      whole = io.lodestar.api.v1.state.StateSnapshot.parseFrom(in);
    }
    return replicateRestore(CommandBatch.newBuilder().setRestore(whole).build(), whole.getSerializedSize());
  }

  /** Room left in an entry for the batch's and Ratis' framing around a restore's bytes. */
  private static final long RESTORE_FRAMING_BYTES = 64 << 10;

  /** {@code state}'s bytes deflated, or null as soon as they pass {@code room}: a huge backup is never held whole. */
  private static com.google.protobuf.ByteString deflate(java.io.InputStream state, long room) throws IOException {
    com.google.protobuf.ByteString.Output out = com.google.protobuf.ByteString.newOutput(1 << 16);
    java.io.OutputStream bounded = new java.io.OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (out.size() + (long) len > room) {
          throw new EntryFull();
        }
        out.write(b, off, len);
      }
    };
    java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_SPEED);
    try (state; java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(bounded, deflater, 1 << 16)) {
      state.transferTo(z);
    } catch (EntryFull e) {
      return null;
    } finally {
      deflater.end();
    }
    return out.toByteString();
  }

  /** Thrown into the deflater's stream to stop it at the entry's room. */
  private static final class EntryFull extends IOException {
    EntryFull() {
      super("the restore entry is full");
    }
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
  }

  /** The members' client addresses (for SDK Welcome messages). */
  public List<String> memberClientAddresses() {
    return members().stream().map(Peer::clientAddress).toList();
  }
}
