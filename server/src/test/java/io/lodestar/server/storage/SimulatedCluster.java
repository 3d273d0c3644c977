package io.lodestar.server.storage;

import static org.awaitility.Awaitility.await;

import io.lodestar.core.StateMachine;
import io.lodestar.core.naming.ServiceChange;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.apache.ratis.server.simulation.SimulatedNetwork;

/**
 * N real {@link RaftLog}s in one JVM, each over its own core {@link StateMachine} and data
 * directory, talking through Ratis' simulated RPC ({@link SimulatedNetwork}) instead of gRPC:
 * the write path a node's handlers use, with faults under the test's control. A stopped node
 * starts again as a node restarts: a new state machine and RaftLog over the same directory, which
 * load its latest snapshot and replay the log after it.
 *
 * <p>Each incarnation of a node records the instances it applies, in order ({@link Node#applied}),
 * so a checker can hold every node's apply order against the others'.
 */
final class SimulatedCluster implements AutoCloseable {
  /** Long enough for an election on a loaded machine; returns as soon as the condition holds. */
  static final Duration PATIENCE = Duration.ofSeconds(60);
  /** Small log segments: a closed segment is what a snapshot lets Ratis purge. */
  private static final long SEGMENT_BYTES = 16 << 10;

  /** One applied instance: its id and the revision it was applied at. */
  record Applied(String id, long revision) {}

  /** One incarnation of a member: from a start to the next stop. */
  record Node(String id, StateMachine stateMachine, RaftLog log, List<Applied> applied) {}

  private final Path dir;
  private final int snapshotEvery;
  private Duration stallAfter;
  private Duration closeWithin;
  /** Members whose applier waits at each change until the latch opens (holdApplies). */
  private final Map<String, java.util.concurrent.CountDownLatch> held = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<ClusterConfig.Member> members = new ArrayList<>();
  private final SimulatedNetwork network = new SimulatedNetwork();
  private final Map<String, Node> live = new LinkedHashMap<>();
  /** Every incarnation that ever ran, live or stopped, for the checker. */
  private final List<Node> incarnations = new CopyOnWriteArrayList<>();
  /** Members whose last stop left Ratis' server running (RaftLog#serverStopped): no restart here. */
  private final Map<String, RaftLog> abandoned = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * @param snapshotEvery log entries between snapshots (small, so restarts and catching up use them)
   */
  SimulatedCluster(Path dir, int size, int snapshotEvery) {
    this.dir = dir;
    this.snapshotEvery = snapshotEvery;
    for (int n = 1; n <= size; n++) {
      members.add(member(n));
    }
  }

  /** Member {@code n}: its addresses are names only, as the simulated network routes by member id. */
  private static ClusterConfig.Member member(int n) {
    return new ClusterConfig.Member("n" + n, "127.0.0.1", 20_000 + 2 * n, 20_001 + 2 * n);
  }

  /** Shorter bounds for every member's RaftLog (RaftLog#bounds). */
  SimulatedCluster bounds(Duration stallAfter, Duration closeWithin) {
    this.stallAfter = stallAfter;
    this.closeWithin = closeWithin;
    return this;
  }

  /** From now on, {@code id}'s applier waits at its next change until {@code gate} opens. */
  void holdApplies(String id, java.util.concurrent.CountDownLatch gate) {
    held.put(id, gate);
  }

  /** The founding members. */
  List<String> ids() {
    return members.stream().map(ClusterConfig.Member::id).toList();
  }

  SimulatedNetwork network() {
    return network;
  }

  /** Starts every member and waits for a leader. */
  SimulatedCluster start() {
    startAll();
    awaitLeader(ids());
    return this;
  }

  /** Starts every member at once, as a cluster's processes start. */
  void startAll() {
    atOnce(ids(), this::start);
  }

  /** Stops every live member at once. */
  void stopAll() {
    atOnce(live().stream().map(Node::id).toList(), this::stop);
  }

  /** Runs {@code action} on each member, each on a thread of its own, and waits for all. */
  private static void atOnce(List<String> ids, Consumer<String> action) {
    ExecutorService threads = Executors.newFixedThreadPool(Math.max(1, ids.size()));
    try {
      ids.stream().map(id -> CompletableFuture.runAsync(() -> action.accept(id), threads)).toList()
          .forEach(CompletableFuture::join);
    } finally {
      threads.shutdown();
    }
  }

  /** Starts (or restarts) one founding member from its data directory. */
  Node start(String id) {
    return start(new ClusterConfig(id, members, -1, false));
  }

  /**
   * A new member {@code n<number>}, as an operator adds one: it starts with {@code --join} (no
   * configuration; it waits to be added), then a founding member adds it through its
   * {@link RaftCluster}. Returns once the live founding members count it as a member.
   */
  Node join(int number) {
    ClusterConfig.Member m = member(number);
    List<ClusterConfig.Member> all = new ArrayList<>(members);
    all.add(m);
    Node node = start(new ClusterConfig(m.id(), all, -1, true));
    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      RaftCluster admin = founder().log().cluster();
      if (admin.members().stream().noneMatch(p -> p.id().equals(m.id()))) {
        admin.addMember(m);
      }
      return live().stream().filter(n -> ids().contains(n.id())).allMatch(n -> n.log().cluster().members().stream()
          .anyMatch(p -> p.id().equals(m.id())));
    });
    return node;
  }

  /** Removes a member through a founding member's {@link RaftCluster}, then stops it. */
  void leave(String id) {
    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      RaftCluster admin = founder().log().cluster();
      if (admin.members().stream().anyMatch(p -> p.id().equals(id))) {
        admin.removeMember(id);
      }
      return admin.members().stream().noneMatch(p -> p.id().equals(id));
    });
    stop(id);
  }

  /** A live founding member, to administer the cluster through. */
  private Node founder() {
    return live().stream().filter(n -> ids().contains(n.id())).findFirst().orElseThrow();
  }

  private Node start(ClusterConfig config) {
    String id = config.nodeId();
    RaftLog left = abandoned.get(id);
    if (left != null && !left.serverStopped()) {
      // a process would exit and restart (which heals a stalled member: SimulatedClusterTest); in
      // one JVM the old server still holds the directory
      throw new IllegalStateException(id + "'s last stop left its Raft server running (see RaftLog's "
          + "'did not stop' error above; Ratis 3.3's applier stalled on a missing entry: ApplyStall): "
          + "it cannot start again in this JVM");
    }
    StateMachine sm = new StateMachine();
    List<Applied> applied = new CopyOnWriteArrayList<>();
    // upserts only come from applied commands (a snapshot load replaces the state without any);
    // within one change they are sorted, as the revisions of one batch were given in order
    sm.registry().addListener((ServiceChange change) -> change.upserts().stream()
        .sorted(Comparator.comparingLong(io.lodestar.api.v1.Instance::getRevision))
        .forEach(i -> applied.add(new Applied(i.getId(), i.getRevision()))));
    sm.registry().addListener((ServiceChange change) -> {
      java.util.concurrent.CountDownLatch gate = held.get(id);
      if (gate != null) {
        try {
          gate.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    RaftLog log = new RaftLog(config, dir.resolve(id), sm, snapshotEvery,
        SEGMENT_BYTES, new SimpleMeterRegistry(), new RaftTransport("simulated", network::settings,
        network.parameters(id)));
    if (stallAfter != null) {
      log.bounds(stallAfter, closeWithin);
    }
    network.attach(id);
    try {
      log.open();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Node node = new Node(id, sm, log, applied);
    synchronized (this) {
      live.put(id, node);
    }
    incarnations.add(node);
    return node;
  }

  /** Stops a member: its Raft server and log close, its pending writes fail. */
  void stop(String id) {
    Node node;
    synchronized (this) {
      node = live.remove(id);
    }
    node.log().close();
    if (!node.log().serverStopped()) {
      abandoned.put(id, node.log());
    }
  }

  synchronized Node node(String id) {
    return live.get(id);
  }

  synchronized List<Node> live() {
    return List.copyOf(live.values());
  }

  List<Node> incarnations() {
    return List.copyOf(incarnations);
  }

  /** Cuts a member off from every other member (or mends it). */
  void isolate(String id, boolean cut) {
    network.cut(id, ids().stream().filter(o -> !o.equals(id)).toList(), cut);
  }

  /**
   * Waits until every live one of {@code among} names the same leader, which is one of them and
   * the only one that says it leads and can serve writes; returns it.
   */
  String awaitLeader(Collection<String> among) {
    String[] leader = new String[1];
    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
      Set<String> named = new HashSet<>();
      int leaders = 0;
      for (String id : among) {
        Node n = node(id);
        if (n == null) {
          continue;
        }
        named.add(String.valueOf(n.log().leaderId()));
        if (n.log().isLeaderReady()) {
          leaders++;
        }
      }
      leader[0] = named.iterator().next();
      return named.size() == 1 && among.contains(leader[0]) && leaders == 1;
    });
    return leader[0];
  }

  /** The live members other than {@code id}. */
  List<String> others(String id) {
    return live().stream().map(Node::id).filter(o -> !o.equals(id)).toList();
  }

  @Override
  public void close() {
    stopAll();
    network.close();
  }
}
