package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.StateMachine;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalLogTest {
  @TempDir Path dir;

  private static Command register(String id) {
    return Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance.newBuilder()
        .setNamespace("default").setService("svc").setId(id).setHost("10.0.0.1").setPort(80))).build();
  }

  private static Command ephemeral(String id) {
    return Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance.newBuilder()
        .setNamespace("default").setService("eph").setId(id).setHost("10.0.0.2").setPort(80).setEphemeral(true)
        .setTtlSeconds(10))).build();
  }

  private static double syncs(SimpleMeterRegistry meters, String path) {
    return meters.get("lodestar.log.fsyncs").tag("path", path).counter().count();
  }

  /**
   * Ephemeral registrations are answered once written, without a sync on their way; the sync
   * thread syncs them right after. A persistent write is synced before its answer, as before.
   */
  @Test
  void ephemeralWritesAreAnsweredBeforeTheirSyncAndPersistentOnesAfterIt() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    LocalLog log = new LocalLog(dir, new StateMachine(), 1_000_000, meters);
    log.open();
    try {
      for (int n = 0; n < 50; n++) {
        log.submit(ephemeral("e" + n)).join();
      }
      assertThat(syncs(meters, "write")).isZero();
      org.awaitility.Awaitility.await().until(() -> syncs(meters, "background") >= 1);
      log.submit(register("p")).join();
      assertThat(syncs(meters, "write")).isEqualTo(1);
    } finally {
      log.close();
    }
  }

  /** With {@code --sync-ephemeral}, an ephemeral registration is synced before its answer too. */
  @Test
  void syncEphemeralSyncsEveryWriteBeforeItsAnswer() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    LocalLog log = new LocalLog(dir, new StateMachine(), 1_000_000, meters).syncEphemeral(true);
    log.open();
    try {
      log.submit(ephemeral("e")).join();
      assertThat(syncs(meters, "write")).isEqualTo(1);
    } finally {
      log.close();
    }
  }

  /**
   * A power loss can take the ephemeral writes of the last unsynced moment with it. Simulated by
   * starting from a copy of the files taken when everything was synced: the writes after it are
   * missing, and the revisions they were answered with are never given to another change.
   */
  @Test
  void revisionsOfLostUnsyncedWritesAreNeverReused() throws Exception {
    Path live = dir.resolve("live");
    Path synced = dir.resolve("synced");
    StateMachine first = new StateMachine();
    LocalLog log = new LocalLog(live, first, 1_000_000, new SimpleMeterRegistry());
    log.open();
    long lastSeen;
    try {
      log.submit(ephemeral("e0")).join();
      log.submit(register("p0")).join(); // synced, and everything before it
      java.nio.file.Files.createDirectories(synced);
      try (var files = java.nio.file.Files.list(live)) {
        for (Path p : files.toList()) {
          java.nio.file.Files.copy(p, synced.resolve(p.getFileName()));
        }
      }
      lastSeen = 0;
      for (int n = 1; n <= 20; n++) {
        lastSeen = log.submit(ephemeral("e" + n)).join().getInstance().getRevision();
      }
    } finally {
      log.close();
    }

    StateMachine after = new StateMachine();
    LocalLog restarted = new LocalLog(synced, after, 1_000_000, new SimpleMeterRegistry());
    restarted.open();
    try {
      assertThat(after.registry().view("default", "eph").instances()).extracting(Instance::getId)
          .containsExactly("e0"); // e1..e20 were lost with the page cache
      long next = restarted.submit(ephemeral("x")).join().getInstance().getRevision();
      assertThat(next).isGreaterThan(lastSeen);
    } finally {
      restarted.close();
    }
    // a clean close leaves nothing to skip: the next start continues where it stopped
    StateMachine again = new StateMachine();
    LocalLog reopened = new LocalLog(synced, again, 1_000_000, new SimpleMeterRegistry());
    reopened.open();
    try {
      assertThat(again.revision()).isEqualTo(after.revision());
    } finally {
      reopened.close();
    }
  }

  /** The log thread only writes: what a caller chains onto a write's future never runs on it. */
  @Test
  void continuationsNeverRunOnTheApplier() {
    LocalLog log = new LocalLog(dir, new StateMachine(), 1_000_000, new SimpleMeterRegistry());
    try {
      log.open();
      List<CompletableFuture<String>> threads = new ArrayList<>();
      for (int n = 0; n < 300; n++) {
        threads.add(log.submit(register("i" + n)).thenApply(r -> Thread.currentThread().getName()));
      }
      for (CompletableFuture<String> t : threads) {
        assertThat(t.join()).isNotEqualTo("lodestar-applier");
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      log.close();
    }
  }

  /**
   * Snapshots are written off the applier while writes go on: whatever the interleaving, a reopened
   * log holds every acknowledged write, and what a snapshot covers is dropped.
   */
  @Test
  void backgroundSnapshotsLoseNothing() throws Exception {
    StateMachine first = new StateMachine();
    LocalLog log = new LocalLog(dir, first, 50, new SimpleMeterRegistry());
    log.open();
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (int n = 0; n < 2000; n++) {
      writes.add(log.submit(register("i" + n)));
    }
    writes.forEach(CompletableFuture::join);
    log.snapshot();
    log.close();
    try (var files = java.nio.file.Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("snapshot-")).toList())
          .hasSize(1);
    }
    assertReopenedHolds(first, 2000, 50);
  }

  /** Reopens the log in {@code dir} and checks that it restores what {@code first} held. */
  private void assertReopenedHolds(StateMachine first, int instances, int snapshotEvery) throws Exception {
    StateMachine again = new StateMachine();
    LocalLog reopened = new LocalLog(dir, again, snapshotEvery, new SimpleMeterRegistry());
    reopened.open();
    try {
      assertThat(again.registry().instanceCount()).isEqualTo(instances);
      assertThat(again.snapshot(0).getRegistry()).isEqualTo(first.snapshot(0).getRegistry());
    } finally {
      reopened.close();
    }
  }

  /**
   * A growing state's snapshots come further apart: the next is due once the log since the last
   * holds as many bytes as that snapshot (and --snapshot-every entries), so filling a node writes
   * a few snapshots per doubling of its state instead of one per fixed count, and a reopened log
   * still holds every write.
   */
  @Test
  void snapshotsOfAGrowingStateComeFurtherApart() throws Exception {
    StateMachine first = new StateMachine();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    LocalLog log = new LocalLog(dir, first, 10, meters);
    log.open();
    for (int n = 0; n < 2000; n++) {
      log.submit(register("i" + n)).join(); // one entry per batch: every 10th could start a snapshot
    }
    log.close();
    // what the close writes included; a fixed count of 10 entries wrote over a hundred
    assertThat(meters.get("lodestar.log.snapshots").counter().count()).isBetween(2.0, 25.0);
    assertReopenedHolds(first, 2000, 10);
  }

  /**
   * The snapshot file is streamed, not built (StreamedSnapshot), but holds what it held before:
   * the header and the whole StateSnapshot (one length padded). And a file written the old way (header
   * and {@code toByteArray()}) restores the same state.
   */
  @Test
  void aSnapshotFileIsTheHeaderAndTheBuiltSnapshot(@TempDir Path old) throws Exception {
    StateMachine first = new StateMachine();
    LocalLog log = new LocalLog(dir, first, 1_000_000, new SimpleMeterRegistry());
    log.open();
    for (int n = 0; n < 300; n++) {
      log.submit(n % 3 == 0 ? ephemeral("e" + n) : register("p" + n)).join();
    }
    log.close();  // writes the last snapshot
    Path file;
    try (var files = java.nio.file.Files.list(dir)) {
      file = files.filter(p -> p.getFileName().toString().startsWith("snapshot-")).findFirst().orElseThrow();
    }
    long index = Long.parseLong(file.getFileName().toString().substring(9, 29));
    byte[] built = first.snapshot(index).toByteArray();
    java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(20).putInt(0x4C445331).putLong(index)
        .putInt(crc(built)).putInt(built.length);
    byte[] expected = java.util.Arrays.copyOf(header.array(), 20 + built.length);
    System.arraycopy(built, 0, expected, 20, built.length);
    // the header, then bytes that parse to the built snapshot: its bytes but for the registry's
    // length, padded to five bytes (known only once the registry is out)
    byte[] bytes = java.nio.file.Files.readAllBytes(file);
    java.nio.ByteBuffer read = java.nio.ByteBuffer.wrap(bytes);
    assertThat(read.getInt()).isEqualTo(0x4C445331);
    assertThat(read.getLong()).isEqualTo(index);
    byte[] body = java.util.Arrays.copyOfRange(bytes, 20, bytes.length);
    assertThat(read.getInt()).isEqualTo(crc(body));
    assertThat(read.getInt()).isEqualTo(body.length);
    assertThat(io.lodestar.api.v1.state.StateSnapshot.parseFrom(body).toByteArray()).isEqualTo(built);
    assertThat(body.length).isEqualTo(built.length + 5 - com.google.protobuf.CodedOutputStream
        .computeUInt32SizeNoTag(first.snapshot(index).getRegistry().getSerializedSize()));

    java.nio.file.Files.write(old.resolve(file.getFileName()), expected);
    StateMachine restored = new StateMachine();
    LocalLog reopened = new LocalLog(old, restored, 1_000_000, new SimpleMeterRegistry());
    reopened.open();
    try {
      assertThat(restored.registry().instanceCount()).isEqualTo(300);
      assertThat(restored.snapshot(index)).isEqualTo(first.snapshot(index));
    } finally {
      reopened.close();
    }
  }

  private static int crc(byte[] bytes) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes);
    return (int) crc.getValue();
  }
}
