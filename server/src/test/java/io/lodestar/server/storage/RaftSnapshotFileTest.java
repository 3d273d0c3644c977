package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.KvPut;
import io.lodestar.api.v1.state.RaftSnapshot;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.StateMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Raft snapshot streamed to its file ({@link RaftSnapshotFile}) parses to the
 * {@code RaftSnapshot} built whole, reads back to the same state, and is what a cluster node
 * restarts from and what a follower that fell behind a log purge is sent: it ends with every
 * instance the others hold.
 */
class RaftSnapshotFileTest {
  @TempDir Path dir;

  @Test
  void theStreamedFileParsesToTheBuiltSnapshotAndReadsBackToTheSameState() throws Exception {
    StateMachine sm = new StateMachine();
    for (int n = 0; n < 300; n++) {
      sm.apply(register(n));
    }
    sm.apply(Command.newBuilder().setTimeMs(7_000).setKvPut(KvPut.newBuilder().setNamespace("default").setKey("k")
        .setValue(com.google.protobuf.ByteString.copyFromUtf8("v"))).build());
    sm.flush();
    long term = 3;
    long index = 1_234;
    Path file = dir.resolve("snapshot.3_1234");

    long written = RaftSnapshotFile.write(sm.captureSnapshot(index), term, index, file);

    byte[] state = sm.snapshot(index).toByteArray();
    CRC32C crc = new CRC32C();
    crc.update(state);
    byte[] built = RaftSnapshot.newBuilder().setTerm(term).setIndex(index).setCrc32C((int) crc.getValue())
        .setState(com.google.protobuf.ByteString.copyFrom(state)).build().toByteArray();
    // what RaftSnapshot.toByteArray() gives but for two lengths and the checksum, padded to five
    // bytes each (known only once the state is out): the same message, the same state's bytes
    byte[] bytes = Files.readAllBytes(file);
    assertThat(written).isEqualTo(bytes.length);
    RaftSnapshot parsed = RaftSnapshot.parseFrom(bytes);
    assertThat(parsed.getTerm()).isEqualTo(term);
    assertThat(parsed.getIndex()).isEqualTo(index);
    CRC32C fileCrc = new CRC32C();
    fileCrc.update(parsed.getState().toByteArray());
    assertThat(parsed.getCrc32C()).isEqualTo((int) fileCrc.getValue());
    assertThat(StateSnapshot.parseFrom(parsed.getState()).toByteArray()).isEqualTo(state);
    assertThat(bytes.length).isEqualTo(built.length + 3 * 5 - sizes(parsed, state));

    RaftSnapshotFile.Header header = RaftSnapshotFile.check(file);
    assertThat(header.term()).isEqualTo(term);
    assertThat(header.index()).isEqualTo(index);
    StateMachine restored = new StateMachine();
    restored.apply(register(999));
    restored.flush();
    RaftSnapshotFile.restore(file, header, restored);
    assertThat(restored.snapshot(index)).isEqualTo(sm.snapshot(index));
    assertThat(restored.registry().instanceCount()).isEqualTo(300);
    assertThat(RaftSnapshotFile.parse(file, header)).isEqualTo(sm.snapshot(index));

    // one byte of the state changed: refused before anything is restored
    byte[] damaged = bytes.clone();
    damaged[damaged.length - 40] ^= 1;
    Path bad = dir.resolve("snapshot.3_1235");
    Files.write(bad, damaged);
    assertThatThrownBy(() -> RaftSnapshotFile.check(bad)).isInstanceOf(RaftSnapshotFile.Damaged.class)
        .hasMessageContaining("bad checksum");
  }

  /**
   * Many instances with metadata, written while one follower is down until the others' logs no
   * longer hold what it missed: it catches up from a streamed snapshot the leader sends and ends
   * with every instance; a member restarted after that loads its own streamed snapshot.
   */
  @Test
  void aFollowerBehindALogPurgeAndARestartedMemberGetEveryInstanceFromStreamedSnapshots() throws Exception {
    try (SimulatedCluster cluster = new SimulatedCluster(dir, 3, 20).start()) {
      String leader = cluster.awaitLeader(cluster.ids());
      String behind = cluster.others(leader).get(0);
      write(cluster.node(leader), 0, 100);
      long stoppedAt = cluster.node(behind).log().appliedIndex();
      cluster.stop(behind);
      int n = 100;
      while (!purgedPast(cluster, stoppedAt)) {
        write(cluster.node(cluster.awaitLeader(cluster.others(behind))), n, n + 50);
        n += 50;
      }
      int total = n;
      SimulatedCluster.Node caughtUp = cluster.start(behind);
      await().atMost(SimulatedCluster.PATIENCE).ignoreExceptions().untilAsserted(() ->
          assertThat(registry(caughtUp)).isEqualTo(registry(cluster.node(leader))));
      assertThat(caughtUp.stateMachine().registry().instanceCount()).isEqualTo(total);

      // a restart loads the node's own (streamed) snapshot, then replays the log after it
      await().atMost(SimulatedCluster.PATIENCE).until(() -> caughtUp.log().adapter().getLatestSnapshot() != null);
      cluster.stop(behind);
      SimulatedCluster.Node restarted = cluster.start(behind);
      await().atMost(SimulatedCluster.PATIENCE).ignoreExceptions().untilAsserted(() ->
          assertThat(registry(restarted)).isEqualTo(registry(cluster.node(cluster.awaitLeader(cluster.ids())))));
      assertThat(restarted.stateMachine().registry().instanceCount()).isEqualTo(total);
    }
  }

  private static boolean purgedPast(SimulatedCluster cluster, long index) {
    return cluster.live().stream().allMatch(n -> n.log().division().getRaftLog().getStartIndex() > index + 1);
  }

  private static StateSnapshot registry(SimulatedCluster.Node node) {
    return StateSnapshot.newBuilder().setRegistry(node.stateMachine().registry().snapshot()).build();
  }

  private static void write(SimulatedCluster.Node node, int from, int to) throws Exception {
    List<CompletableFuture<?>> answers = new ArrayList<>();
    for (int n = from; n < to; n++) {
      answers.add(node.log().submit(register(n)));
    }
    for (CompletableFuture<?> a : answers) {
      a.get(60, TimeUnit.SECONDS);
    }
  }

  private static Command register(int n) {
    return Command.newBuilder().setTimeMs(5_000).setRegisterInstance(RegisterInstance.newBuilder()
        .setInstance(Instance.newBuilder().setNamespace("default").setService("svc-" + (n % 7)).setId("i-" + n)
            .setHost("10.0." + (n / 250) + "." + (n % 250)).setPort(8080).putMetadata("zone", "z" + (n % 3))
            .putMetadata("version", "1." + (n % 5)))).build();
  }

  /** The bytes the built file spends on the three varints the streamed one pads to five each. */
  private static int sizes(RaftSnapshot built, byte[] state) throws Exception {
    return com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(built.getCrc32C())
        + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(state.length)
        + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(
            StateSnapshot.parseFrom(built.getState()).getRegistry().getSerializedSize());
  }
}
