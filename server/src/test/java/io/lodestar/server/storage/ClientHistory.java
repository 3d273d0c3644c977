package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.naming.ServiceView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Clients writing through a {@link SimulatedCluster}'s RaftLogs ({@link CommandLog#submit}, the
 * path every REST and gRPC write takes) and the history of what each was told; then the checker
 * that holds the history and the nodes' states against each other, in the spirit of etcd's
 * robustness tests and Jepsen's checkers.
 *
 * <p>Each writer is one sequential client: it registers a new instance through one of the live
 * nodes, waits for the answer and records it. An acknowledged write
 * carries the revision it was applied at; any failure is recorded as indeterminate (an UNAVAILABLE
 * write may still have been committed). Invocations and answers are stamped from one logical clock,
 * so "acknowledged before the other was sent" needs no wall clock.
 */
final class ClientHistory implements AutoCloseable {
  static final String NAMESPACE = "default";
  static final String SERVICE = "svc";
  /**
   * How long a client waits for an answer, as a client's request deadline: beyond a write's own
   * bound without a majority (5 s). A write accepted by a node that was cut off before it applied
   * it waits for that node's apply (read your writes) until the cut heals; its client gives up
   * and records it as indeterminate, and writes elsewhere meanwhile.
   */
  private static final long ANSWER_SECONDS = 10;

  /** One client operation: what was sent where, when (logical time), and what the client learnt. */
  record Op(String id, String node, long invoked, long answered, boolean acknowledged, long revision, String error) {}

  private final SimulatedCluster cluster;
  private final AtomicLong clock = new AtomicLong();
  private final List<Op> ops = new CopyOnWriteArrayList<>();
  private final List<String> staleReads = new CopyOnWriteArrayList<>();
  private final AtomicInteger acknowledged = new AtomicInteger();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> writers = new ArrayList<>();

  /** Starts {@code count} writers, each with its own seeded choice of nodes. */
  ClientHistory(SimulatedCluster cluster, int count, long seed) {
    this.cluster = cluster;
    for (int w = 0; w < count; w++) {
      int writer = w;
      Thread t = new Thread(() -> write(writer, new Random(seed * 31 + writer)), "history-writer-" + w);
      t.setDaemon(true);
      writers.add(t);
      t.start();
    }
  }

  /**
   * One sequential client. Like an SDK it stays with its node while that node answers, and moves
   * to another (seeded choice) after a write there was not acknowledged or once the node stopped.
   */
  private void write(int writer, Random random) {
    String current = null;
    for (int n = 0; running.get(); n++) {
      List<SimulatedCluster.Node> live = cluster.live();
      SimulatedCluster.Node node = null;
      for (SimulatedCluster.Node candidate : live) {
        node = candidate.id().equals(current) ? candidate : node;
      }
      if (node == null) {
        if (live.isEmpty()) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // no node to write to: pace the loop
          continue;
        }
        node = live.get(random.nextInt(live.size()));
      }
      Op op = send(node, "w" + writer + "-" + n);
      if (op == null) {
        return;
      }
      current = op.acknowledged() ? node.id() : null;
      if (!op.acknowledged() && live.size() > 1) {
        List<SimulatedCluster.Node> others = live.stream().filter(o -> !o.id().equals(op.node())).toList();
        current = others.get(random.nextInt(others.size())).id();
      }
    }
  }

  /**
   * One write of a new instance through {@code node}, recorded in the history; returns what the
   * client learnt, or null if interrupted.
   */
  Op send(SimulatedCluster.Node node, String id) {
    long invoked = clock.incrementAndGet();
    Op op;
    try {
      CommandResult r = node.log().submit(register(id)).get(ANSWER_SECONDS, TimeUnit.SECONDS);
      long answered = clock.incrementAndGet();
      long revision = r.getInstance().getRevision();
      // read your writes: a write answers once the node it was sent to has applied it
      if (!holds(node, id, revision)) {
        staleReads.add(id + " acknowledged by " + node.id() + " at revision " + revision + " but not visible there");
      }
      op = new Op(id, node.id(), invoked, answered, true, revision, null);
      acknowledged.incrementAndGet();
    } catch (ExecutionException e) {
      op = new Op(id, node.id(), invoked, clock.incrementAndGet(), false, 0, e.getCause().toString());
    } catch (TimeoutException e) {
      op = new Op(id, node.id(), invoked, clock.incrementAndGet(), false, 0, "no answer");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    ops.add(op);
    return op;
  }

  static Command register(String id) {
    return Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance.newBuilder()
        .setNamespace(NAMESPACE).setService(SERVICE).setId(id).setHost("10.0.0.1").setPort(80).setEphemeral(false)))
        .build();
  }

  private static boolean holds(SimulatedCluster.Node node, String id, long revision) {
    ServiceView view = node.stateMachine().registry().view(NAMESPACE, SERVICE);
    if (view == null) {
      return false;
    }
    boolean[] found = new boolean[1];
    view.forEachInstance(i -> found[0] |= i.getId().equals(id) && i.getRevision() == revision);
    return found[0];
  }

  int acknowledged() {
    return acknowledged.get();
  }

  /** Waits until the clients have had {@code count} more writes acknowledged: the cluster makes progress. */
  void awaitProgress(int count) {
    int target = acknowledged.get() + count;
    await().atMost(SimulatedCluster.PATIENCE).pollInterval(Duration.ofMillis(20))
        .until(() -> acknowledged.get() >= target);
  }

  List<Op> ops() {
    return List.copyOf(ops);
  }

  /** Stops the writers once each has its current write answered. */
  @Override
  public void close() {
    running.set(false);
    for (Thread t : writers) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(ANSWER_SECONDS + 10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The checker, once the writers stopped and every fault healed: the history against the model
   * (a register applies at the next revision) and the live nodes against each other.
   */
  void check() {
    close();
    List<Op> history = ops();
    List<Op> acked = history.stream().filter(Op::acknowledged).toList();
    assertThat(acked).as("acknowledged writes").isNotEmpty();
    assertThat(staleReads).as("acknowledged writes not visible on the node that acknowledged them").isEmpty();

    // no two acknowledged writes at one revision
    Map<Long, String> ackedAt = new HashMap<>();
    for (Op op : acked) {
      String other = ackedAt.putIfAbsent(op.revision(), op.id());
      assertThat(other).as("revision %d acknowledged for %s and %s", op.revision(), other, op.id()).isNull();
    }

    // real-time order: a write acknowledged before another was sent has the lower revision
    List<Op> byAnswer = acked.stream().sorted(Comparator.comparingLong(Op::answered)).toList();
    List<Op> byInvocation = acked.stream().sorted(Comparator.comparingLong(Op::invoked)).toList();
    int p = 0;
    Op highest = null;
    for (Op op : byInvocation) {
      for (; p < byAnswer.size() && byAnswer.get(p).answered() < op.invoked(); p++) {
        if (highest == null || byAnswer.get(p).revision() > highest.revision()) {
          highest = byAnswer.get(p);
        }
      }
      if (highest != null) {
        assertThat(op.revision()).as("%s was sent after %s was acknowledged at revision %d", op.id(), highest.id(),
            highest.revision()).isGreaterThan(highest.revision());
      }
    }

    // a consistent read on any node (after a barrier through the log) sees every write
    // acknowledged anywhere before it
    for (SimulatedCluster.Node n : cluster.live()) {
      await().atMost(SimulatedCluster.PATIENCE).ignoreExceptions()
          .until(() -> n.log().barrier().handle((v, e) -> e == null).get(ANSWER_SECONDS, TimeUnit.SECONDS));
      for (Op op : acked) {
        assertThat(holds(n, op.id(), op.revision())).as("%s after a barrier on %s", op.id(), n.id()).isTrue();
      }
    }

    // every live node ends in one state, holding every acknowledged write at its revision and
    // nothing that no client sent
    Set<String> sent = new HashSet<>();
    history.forEach(op -> sent.add(op.id()));
    await().atMost(SimulatedCluster.PATIENCE).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
      Set<com.google.protobuf.ByteString> states = new HashSet<>();
      for (SimulatedCluster.Node n : cluster.live()) {
        states.add(n.log().adapter().exportState().getState());
      }
      assertThat(states).as("distinct states of the live nodes").hasSize(1);
      StateSnapshot state = StateSnapshot.parseFrom(states.iterator().next());
      Map<String, Long> stored = new HashMap<>();
      state.getRegistry().getInstancesList().forEach(i -> stored.put(i.getId(), i.getRevision()));
      for (Op op : acked) {
        assertThat(stored).as("acknowledged %s", op.id()).containsEntry(op.id(), op.revision());
      }
      assertThat(sent).as("written by some client").containsAll(stored.keySet());
    });

    // every node applied the writes in one order: increasing revisions on each, and a revision is
    // the same write on every node that applied it
    Map<Long, String> appliedAt = new HashMap<>();
    for (SimulatedCluster.Node n : cluster.incarnations()) {
      long last = 0;
      for (SimulatedCluster.Applied a : n.applied()) {
        assertThat(a.revision()).as("on %s, %s after revision %d", n.id(), a.id(), last).isGreaterThan(last);
        last = a.revision();
        String other = appliedAt.putIfAbsent(a.revision(), a.id());
        assertThat(other == null || other.equals(a.id())).as("revision %d is %s on %s, %s elsewhere", a.revision(),
            a.id(), n.id(), other).isTrue();
      }
    }
    for (Op op : acked) {
      assertThat(appliedAt.get(op.revision())).as("applied at revision %d", op.revision()).isEqualTo(op.id());
    }
  }
}
