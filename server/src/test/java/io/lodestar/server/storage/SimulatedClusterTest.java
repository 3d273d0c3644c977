package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.lodestar.core.LodestarException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real {@link RaftLog}s in one JVM over Ratis' simulated RPC ({@link SimulatedCluster}),
 * driven through fault schedules while clients write through {@link CommandLog#submit} and record
 * what they were told ({@link ClientHistory}); the checker then holds the history against the
 * model and the nodes against each other: no acknowledged write lost, none reordered, every node
 * in the same state, each applying the writes in the same order. What runs is the write path a
 * node's handlers use — batching, forwarding to the leader, waiting for the local apply,
 * completing on {@code lodestar-ack}, replay and snapshot installation — with only the network
 * simulated. {@code ClusterTest} keeps what only real processes show.
 */
class SimulatedClusterTest {
  /** Small, so that restarts load snapshots and a node far behind needs one. */
  private static final int SNAPSHOT_EVERY = 20;

  @TempDir Path dir;

  @Test
  void noAcknowledgedWriteIsLostOrReorderedUnderAScriptedFaultSchedule() {
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, SNAPSHOT_EVERY).start();
        ClientHistory history = new ClientHistory(cluster, 3, 1)) {
      history.awaitProgress(20);

      // 1. the leader is cut off from the others: they elect a new one and carry on; the first
      // write a survivor takes goes straight to the new leader; the old one rejoins as a follower
      String leader = cluster.awaitLeader(cluster.ids());
      cluster.isolate(leader, true);
      String next = cluster.awaitLeader(cluster.others(leader));
      assertThat(next).isNotEqualTo(leader);
      ClientHistory.Op first = history.send(cluster.node(cluster.others(leader).get(0)), "after-partition");
      assertThat(first.acknowledged()).as("the first write after the leader changed: %s", first).isTrue();
      history.awaitProgress(20);
      cluster.isolate(leader, false);
      cluster.awaitLeader(cluster.ids());

      // 2. a follower is slow (each message to or from it late): the others carry on
      String slow = cluster.others(cluster.awaitLeader(cluster.ids())).get(0);
      cluster.network().slow(slow, 300);
      history.awaitProgress(20);
      cluster.network().slow(slow, 0);

      // 3. the leader stops once it has a snapshot; it restarts from its snapshot and log
      leader = cluster.awaitLeader(cluster.ids());
      SimulatedCluster.Node old = cluster.node(leader);
      await().atMost(SimulatedCluster.PATIENCE)
          .until(() -> old.log().adapter().getLatestSnapshot() != null);
      cluster.stop(leader);
      cluster.awaitLeader(cluster.others(leader));
      history.awaitProgress(20);
      SimulatedCluster.Node restarted = cluster.start(leader);
      assertThat(restarted.log().adapter().getLatestSnapshot()).as("snapshot loaded at restart").isNotNull();
      history.awaitProgress(20);

      // 4. a follower stops and the others write on until their log no longer holds what it
      // missed: it catches up from a snapshot the leader sends
      String behind = cluster.others(cluster.awaitLeader(cluster.ids())).get(0);
      long stoppedAt = cluster.node(behind).log().appliedIndex();
      cluster.stop(behind);
      await().atMost(SimulatedCluster.PATIENCE).until(() -> cluster.live().stream()
          .allMatch(n -> n.log().division().getRaftLog().getStartIndex() > stoppedAt + 1));
      cluster.start(behind);
      history.awaitProgress(20);

      // 5. every member stops, then all start again from their own directories
      cluster.stopAll();
      cluster.startAll();
      cluster.awaitLeader(cluster.ids());
      history.awaitProgress(10);

      history.check();
    }
  }

  /**
   * Seeded random fault schedules: each step puts one fault on a member chosen at random — cut off
   * from the others, one of its links cut, slowed, or stopped and started again — holds it until
   * the clients have had a few more writes acknowledged (a majority is always left), then heals it.
   * The checker runs after the last step. A failure names its seed; the same seed replays the same
   * schedule (not the same thread interleaving).
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {7, 1009})
  void noAcknowledgedWriteIsLostOrReorderedUnderARandomFaultSchedule(long seed) {
    Random random = new Random(seed);
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, SNAPSHOT_EVERY).start();
        ClientHistory history = new ClientHistory(cluster, 3, seed)) {
      history.awaitProgress(10);
      List<String> ids = cluster.ids();
      for (int step = 0; step < 6; step++) {
        String target = ids.get(random.nextInt(ids.size()));
        List<String> others = ids.stream().filter(id -> !id.equals(target)).toList();
        switch (random.nextInt(4)) {
          case 0 -> {
            cluster.isolate(target, true);
            history.awaitProgress(10);
            cluster.isolate(target, false);
          }
          case 1 -> {
            List<String> link = List.of(others.get(random.nextInt(others.size())));
            cluster.network().cut(target, link, true);
            history.awaitProgress(10);
            cluster.network().cut(target, link, false);
          }
          case 2 -> {
            cluster.network().slow(target, 50 + random.nextInt(400));
            history.awaitProgress(10);
            cluster.network().slow(target, 0);
          }
          default -> {
            cluster.stop(target);
            history.awaitProgress(10);
            cluster.start(target);
          }
        }
      }
      history.awaitProgress(10);
      history.check();
    }
  }

  /**
   * The cluster grows to five members and shrinks back to three, one member at a time, through
   * {@link RaftCluster} (what {@code /v1/cluster/members} calls), while clients write on: every
   * member, added or founding, serves the writes and the checker holds the history.
   */
  @Test
  void membershipGrowsToFiveAndShrinksBackWhileWritesContinue() {
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, SNAPSHOT_EVERY).start();
        ClientHistory history = new ClientHistory(cluster, 3, 5)) {
      history.awaitProgress(10);
      cluster.join(4);
      cluster.join(5);
      await().atMost(SimulatedCluster.PATIENCE).untilAsserted(() -> {
        for (SimulatedCluster.Node n : cluster.live()) {
          assertThat(n.log().cluster().members()).as("members on %s", n.id()).extracting(RaftCluster.Peer::id)
              .containsExactly("n1", "n2", "n3", "n4", "n5");
        }
      });
      history.awaitProgress(20);
      cluster.leave("n5");
      cluster.leave("n4");
      await().atMost(SimulatedCluster.PATIENCE).untilAsserted(() -> {
        for (SimulatedCluster.Node n : cluster.live()) {
          assertThat(n.log().cluster().members()).as("members on %s", n.id()).extracting(RaftCluster.Peer::id)
              .containsExactly("n1", "n2", "n3");
        }
      });
      history.awaitProgress(20);
      history.check();
    }
  }

  /**
   * A node that lost its majority fails writes UNAVAILABLE within the write bound, with a message
   * that names no Raft internals, and reports DEGRADED; once the others are back it writes again by
   * itself (the Ratis client it had, which gave up for good, was replaced) and reports UP.
   */
  @Test
  void aNodeWithoutAMajorityFailsWritesAndWritesAgainByItself() throws Exception {
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, SNAPSHOT_EVERY).start()) {
      String survivor = cluster.others(cluster.awaitLeader(cluster.ids())).get(0);
      RaftLog log = cluster.node(survivor).log();
      assertThat(log.submit(ClientHistory.register("before"))).succeedsWithin(SimulatedCluster.PATIENCE);
      List<String> gone = cluster.others(survivor);
      gone.forEach(cluster::stop);

      // more than one write: past the point where the Ratis client gives up for good
      for (int n = 0; n < 2; n++) {
        String id = "lost" + n;
        Throwable t = catchThrowable(() -> log.submit(ClientHistory.register(id)).get(60, TimeUnit.SECONDS));
        assertThat(t).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(LodestarException.class);
        LodestarException e = (LodestarException) t.getCause();
        assertThat(e.code()).isEqualTo(LodestarException.Code.UNAVAILABLE);
        assertThat(e.getMessage()).contains("no reachable majority").doesNotContainIgnoringCase("raft")
            .doesNotContain("client-").doesNotContain("group-");
      }
      await().atMost(SimulatedCluster.PATIENCE).untilAsserted(() -> {
        assertThat(log.status().state()).isEqualTo(LogStatus.State.DEGRADED);
        assertThat(log.status().reason()).contains("no majority");
      });

      gone.forEach(cluster::start);
      await().atMost(SimulatedCluster.PATIENCE).ignoreExceptions()
          .until(() -> log.submit(ClientHistory.register("back")).get(10, TimeUnit.SECONDS) != null);
      await().atMost(SimulatedCluster.PATIENCE).until(() -> log.status().equals(LogStatus.UP));
      await().atMost(SimulatedCluster.PATIENCE).ignoreExceptions().untilAsserted(() -> {
        for (SimulatedCluster.Node n : cluster.live()) {
          Set<String> ids = new HashSet<>();
          n.stateMachine().registry().view(ClientHistory.NAMESPACE, ClientHistory.SERVICE)
              .forEachInstance(i -> ids.add(i.getId()));
          assertThat(ids).as("on %s", n.id()).contains("before", "back");
        }
      });
    }
  }

  /**
   * A member whose log holds no entry after its snapshot (what Ratis 3.3 left once at run time, a
   * former leader rejoining while two snapshot installs ran on it: ApplyStall). The gap is made by
   * hand while the follower is stopped: an early snapshot of its own instead of its newer ones, its
   * log starting well after it. No write runs meanwhile, so the leader still holds what follows the
   * member's log and sends that, not a snapshot: restarted, the member stays stuck. It must say so
   * (DOWN, naming the gap and the way out; the cluster view too) and never report UP; made leader,
   * it hands leadership on by itself; and the way out it names, a rebuild (removed, a fresh member added), brings back three members that apply
   * every write.
   */
  @Test
  void aMemberWithAGapInItsLogSaysSoAndARebuildHealsIt() throws Exception {
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, SNAPSHOT_EVERY)
        .bounds(Duration.ofSeconds(2), Duration.ofSeconds(3)).start();
        ClientHistory history = new ClientHistory(cluster, 0, 3)) { // this test's writes, one at a time
      String leader = cluster.awaitLeader(cluster.ids());
      String follower = cluster.others(leader).get(0);
      RaftLog followerLog = cluster.node(follower).log();
      Path group = dir.resolve(follower).resolve(RaftLog.GROUP_ID.getUuid().toString());
      // an early snapshot kept aside, then written on until the follower's log starts well after it
      long older = -1;
      for (int n = 0; older < 0 || followerLog.division().getRaftLog().getStartIndex() <= older + 1
          || followerLog.appliedIndex() < cluster.node(leader).log().appliedIndex(); n++) {
        assertThat(history.send(cluster.node(leader), "early-" + n).acknowledged()).isTrue();
        List<Long> snaps = older < 0 ? snapshotIndexes(group) : List.of();
        if (!snaps.isEmpty() && copySnapshot(group.resolve("sm"),
            Files.createDirectories(dir.resolve("kept-" + snaps.get(snaps.size() - 1))), snaps.get(snaps.size() - 1)) == 2) {
          older = snaps.get(snaps.size() - 1);
        }
        assertThat(n).as("writes before the follower's log moved past its early snapshot").isLessThan(20_000);
      }
      cluster.stop(follower);
      try (var files = Files.list(group.resolve("sm"))) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      assertThat(copySnapshot(dir.resolve("kept-" + older), group.resolve("sm"), older)).isEqualTo(2);

      RaftLog log = cluster.start(follower).log();
      for (int n = 0; n < 20; n++) {
        assertThat(history.send(cluster.node(leader), "later-" + n).acknowledged()).isTrue();
      }
      long stuckAt = older;
      await().atMost(SimulatedCluster.PATIENCE).untilAsserted(() -> {
        LogStatus status = log.status();
        assertThat(log.appliedIndex()).isEqualTo(stuckAt).isLessThan(log.commitIndex());
        assertThat(status.state()).isEqualTo(LogStatus.State.DOWN);
        assertThat(status.reason()).contains("stopped applying at log index " + stuckAt,
            "holds no entry " + (stuckAt + 1), "rebuild it", "--join");
      });
      assertThat(log.cluster().applyStall()).isEqualTo(log.status().reason());

      // made leader, it could neither apply nor answer a write: it hands leadership on by itself
      String current = cluster.awaitLeader(cluster.ids());
      await().atMost(SimulatedCluster.PATIENCE).until(() -> cluster.node(current).log().transferLeadership(follower)
          || log.isLeader());
      await().atMost(SimulatedCluster.PATIENCE).until(() -> {
        String l = cluster.node(current).log().leaderId();
        return l != null && !l.equals(follower) && cluster.node(l).log().isLeaderReady();
      });
      assertThat(history.send(cluster.node(current), "after-hand-off").acknowledged()).isTrue();

      // the rebuild: removed (its stop does not hang on the stuck applier), a fresh member added
      assertTimeoutPreemptively(Duration.ofSeconds(120), () -> cluster.leave(follower));
      SimulatedCluster.Node rebuilt = cluster.join(4);
      String now = cluster.awaitLeader(List.of("n1", "n2", "n3", "n4"));
      for (int n = 0; n < 10; n++) {
        assertThat(history.send(cluster.node(now), "rebuilt-" + n).acknowledged()).isTrue();
      }
      await().atMost(SimulatedCluster.PATIENCE).untilAsserted(() -> {
        assertThat(rebuilt.log().appliedIndex()).isGreaterThan(stuckAt)
            .isEqualTo(cluster.node(now).log().appliedIndex());
        assertThat(rebuilt.log().status().state()).isEqualTo(LogStatus.State.UP);
      });
      history.check();
    }
  }

  /**
   * A member whose applier cannot move (here held at a change; in the field, the gap above) still
   * stops: Ratis' own stop waits for the applier to reach the commit index, and a node's stop (and
   * a test's) hung on it for good once. A held applier with its next entry in the log is slow, not
   * stalled: its status does not say DOWN.
   */
  @Test
  void aMemberWhoseApplierCannotMoveStillStops() throws Exception {
    java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, SNAPSHOT_EVERY)
        .bounds(Duration.ofMillis(500), Duration.ofSeconds(3)).start();
        ClientHistory history = new ClientHistory(cluster, 2, 5)) {
      String follower = cluster.others(cluster.awaitLeader(cluster.ids())).get(0);
      RaftLog log = cluster.node(follower).log();
      history.awaitProgress(5);
      cluster.holdApplies(follower, gate);
      await().atMost(SimulatedCluster.PATIENCE).until(() -> log.commitIndex() > log.appliedIndex() + 5);
      long held = log.appliedIndex();
      // past the stall bound, looked at again and again: slow, not stalled, as its next entry is in the log
      await().during(Duration.ofSeconds(2)).atMost(SimulatedCluster.PATIENCE)
          .until(() -> log.appliedIndex() == held && log.applyStall() == null
              && log.status().state() != LogStatus.State.DOWN);

      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> cluster.stop(follower),
          "a stop must not wait for an applier that cannot move");
      assertThat(log.serverStopped()).as("its Raft server, left behind").isFalse();
      // once the applier may move again, the server left behind ends its own stop (and stops
      // writing into the directory the test deletes)
      gate.countDown();
      await().atMost(SimulatedCluster.PATIENCE).until(log::serverStopped);
    } finally {
      gate.countDown();
    }
  }

  /** Copies the files of the snapshot at {@code index} (data and checksum); returns how many. */
  private static int copySnapshot(Path from, Path to, long index) throws IOException {
    int copied = 0;
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        if (f.getFileName().toString().matches("snapshot\\.\\d+_" + index + "(\\.md5)?")) {
          Files.copy(f, to.resolve(f.getFileName()));
          copied++;
        }
      }
    }
    return copied;
  }

  private static List<Long> snapshotIndexes(Path group) throws IOException {
    Path sm = group.resolve("sm");
    if (!Files.isDirectory(sm)) {
      return List.of();
    }
    try (var files = Files.list(sm)) {
      return files.map(f -> f.getFileName().toString()).filter(n -> n.matches("snapshot\\.\\d+_\\d+\\.md5")) // complete
          .map(n -> Long.parseLong(n.substring(n.indexOf('_') + 1, n.length() - 4))).sorted().toList();
    }
  }
}
