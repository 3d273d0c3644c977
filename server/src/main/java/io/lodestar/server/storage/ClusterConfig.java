package io.lodestar.server.storage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * This node's place in a cluster: its id and the initial members, each with the client address
 * (gRPC, REST) and the Raft address (client port + 1 unless given).
 *
 * <p>Syntax of a member list: {@code n1=127.0.0.1:8700,n2=127.0.0.1:8710/8799} where the optional
 * {@code /port} is that member's Raft port.
 */
public record ClusterConfig(String nodeId, List<Member> members, int raftPortOverride, boolean join) {
  public record Member(String id, String host, int clientPort, int raftPort) {
    public String clientAddress() {
      return host + ":" + clientPort;
    }

    public String raftAddress() {
      return host + ":" + raftPort;
    }

    /** Parses {@code id=host:port[/raftPort]}. */
    public static Member parse(String spec) {
      int eq = spec.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("a member is id=host:port, got '" + spec + "'");
      }
      String id = spec.substring(0, eq).trim();
      String addr = spec.substring(eq + 1).trim();
      int raft = -1;
      int slash = addr.indexOf('/');
      if (slash >= 0) {
        raft = port(addr.substring(slash + 1), spec);
        addr = addr.substring(0, slash);
      }
      int colon = addr.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("a member is id=host:port, got '" + spec + "'");
      }
      String host = addr.substring(0, colon);
      int port = port(addr.substring(colon + 1), spec);
      if (!id.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
        throw new IllegalArgumentException("node id '" + id + "' must be letters, digits, '.', '_' or '-'");
      }
      return new Member(id, host, port, raft < 0 ? port + 1 : raft);
    }

    private static int port(String s, String spec) {
      try {
        int p = Integer.parseInt(s);
        if (p < 1 || p > 65535) {
          throw new NumberFormatException();
        }
        return p;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad port in '" + spec + "'");
      }
    }
  }

  public ClusterConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    members = List.copyOf(members);
  }

  /** Parses {@code --cluster}; applies {@code --raft-port} to this node's own entry. */
  public static ClusterConfig parse(String nodeId, String cluster, int raftPort, boolean join) {
    if (nodeId == null || nodeId.isBlank()) {
      throw new IllegalArgumentException("--cluster needs --node-id");
    }
    Map<String, Member> byId = new LinkedHashMap<>();
    for (String part : cluster.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      Member m = Member.parse(part);
      if (byId.put(m.id(), m) != null) {
        throw new IllegalArgumentException("node id " + m.id() + " is listed twice in --cluster");
      }
    }
    Member self = byId.get(nodeId);
    if (self == null) {
      throw new IllegalArgumentException("--node-id " + nodeId + " is not one of the --cluster members " + byId.keySet());
    }
    if (raftPort > 0) {
      byId.put(nodeId, new Member(nodeId, self.host(), self.clientPort(), raftPort));
    }
    return new ClusterConfig(nodeId, new ArrayList<>(byId.values()), raftPort, join);
  }

  public Member self() {
    return members.stream().filter(m -> m.id().equals(nodeId)).findFirst().orElseThrow();
  }
}
