package io.lodestar.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.StateMachine;
import io.lodestar.server.storage.LocalLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A damaged write-ahead log or snapshot is never misread: a node opening a data directory with
 * bytes changed, cut or inserted anywhere either refuses to start with an error that names the
 * damaged file, or holds exactly the state after some prefix of the writes (a torn tail is cut
 * off, a damaged snapshot is passed over for the log). Never a state that no prefix produced.
 */
class StorageFuzzProperties {
  static final int WRITES = 40;
  static Path pristine;
  /** The registry's state after each prefix of the writes (0..WRITES), as bytes. */
  static Set<com.google.protobuf.ByteString> prefixes = new HashSet<>();

  static Command write(int n) {
    return Command.newBuilder().setTimeMs(1_000 + n).setRegisterInstance(RegisterInstance.newBuilder()
        .setInstance(Instance.newBuilder().setNamespace("default").setService("s" + (n % 3)).setId("i" + n)
            .setHost("10.0.0." + n).setPort(80))).build();
  }

  @BeforeContainer
  static void writeALog() throws IOException {
    pristine = Files.createTempDirectory("lodestar-storage-fuzz");
    Path live = Files.createTempDirectory("lodestar-storage-fuzz-live");
    LocalLog log = new LocalLog(live, new StateMachine(), 1_000, new SimpleMeterRegistry());
    log.open();
    for (int n = 0; n < WRITES; n++) {
      log.submit(write(n)).join();
      if (n == 24) {
        log.snapshot();  // a snapshot at 25, then log records after it
      }
    }
    // copied while open, as kill -9 leaves it (a clean close would snapshot everything)
    try (Stream<Path> s = Files.list(live)) {
      for (Path p : s.toList()) {
        Files.copy(p, pristine.resolve(p.getFileName()));
      }
    }
    log.close();
    delete(live);
    StateMachine replay = new StateMachine();
    prefixes.add(replay.snapshot(0).getRegistry().toByteString());
    for (int n = 0; n < WRITES; n++) {
      replay.apply(write(n));
      replay.flush();
      prefixes.add(replay.snapshot(0).getRegistry().toByteString());
    }
  }

  @AfterContainer
  static void removeIt() throws IOException {
    delete(pristine);
  }

  @Property(tries = 150)
  void aDamagedFileIsRefusedOrReadAsAPrefix(@ForAll long seed, @ForAll int whichFile) throws IOException {
    Path dir = Files.createTempDirectory("lodestar-storage-fuzz-try");
    try {
      List<Path> files = new ArrayList<>();
      try (Stream<Path> s = Files.list(pristine)) {
        for (Path p : s.sorted().toList()) {
          Path copy = dir.resolve(p.getFileName());
          Files.copy(p, copy);
          if (Files.size(p) > 0) {
            files.add(copy);
          }
        }
      }
      Path victim = files.get(Math.floorMod(whichFile, files.size()));
      Files.write(victim, Hostile.mutate(Files.readAllBytes(victim), seed));

      StateMachine sm = new StateMachine();
      LocalLog log = new LocalLog(dir, sm, 25, new SimpleMeterRegistry());
      try {
        log.open();
      } catch (IOException | RuntimeException refused) {
        String m = String.valueOf(refused.getMessage());
        assertThat(m).as("the error names the damaged file or what is missing")
            .containsAnyOf(victim.getFileName().toString(), "log gap", "snapshot");
        return;
      } finally {
        log.close();
      }
      assertThat(prefixes).as("the state read is the state after some prefix of the writes")
          .contains(sm.snapshot(0).getRegistry().toByteString());
    } finally {
      delete(dir);
    }
  }

  /**
   * Damage inside a record of the last segment that intact records follow is no torn write: the
   * node refuses to start and names the file and byte; only with {@code --wal-truncate-damaged}
   * (LocalLog#truncateDamaged) does it start, holding exactly the writes before the damaged record.
   */
  @Property(tries = 60)
  void damageFollowedByValidRecordsIsRefusedUnlessTruncationIsChosen(@ForAll long seed) throws IOException {
    java.util.Random r = new java.util.Random(seed);
    Path dir = Files.createTempDirectory("lodestar-storage-fuzz-mid");
    try {
      Path last = copyPristineReturningLastSegment(dir);
      byte[] bytes = Files.readAllBytes(last);
      // the records of the last segment: [int length][int crc32c][long index][command]
      List<long[]> records = new ArrayList<>(); // {offset, total length, index}
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      for (int pos = 0; pos < bytes.length; ) {
        int len = b.getInt(pos);
        records.add(new long[] {pos, 16 + len, b.getLong(pos + 8)});
        pos += 16 + len;
      }
      assertThat(records).hasSizeGreaterThan(2);
      long[] victim = records.get(r.nextInt(records.size() - 1)); // never the last: intact records follow it
      int at = (int) victim[0] + r.nextInt((int) victim[1]);
      bytes[at] ^= (byte) (1 + r.nextInt(255));
      Files.write(last, bytes);

      LocalLog refused = new LocalLog(dir, new StateMachine(), 25, new SimpleMeterRegistry());
      try {
        org.assertj.core.api.Assertions.assertThatThrownBy(refused::open).isInstanceOf(IOException.class)
            .hasMessageContaining(last.getFileName().toString())
            .hasMessageContaining("damaged at byte " + victim[0])
            .hasMessageContaining("--wal-truncate-damaged");
      } finally {
        refused.close();
      }
      assertThat(Files.readAllBytes(last)).as("a refused start cuts nothing").isEqualTo(bytes);

      StateMachine sm = new StateMachine();
      LocalLog cut = new LocalLog(dir, sm, 25, new SimpleMeterRegistry()).truncateDamaged(true);
      try {
        cut.open();
      } finally {
        cut.close();
      }
      StateMachine expected = new StateMachine();
      for (int n = 0; n < victim[2] - 1; n++) {
        expected.apply(write(n));
      }
      expected.flush();
      assertThat(sm.snapshot(0).getRegistry()).as("exactly the writes before the damaged record")
          .isEqualTo(expected.snapshot(0).getRegistry());
    } finally {
      delete(dir);
    }
  }

  /** A torn tail, the last record cut short by a crash, is still cut off without asking. */
  @Property(tries = 20)
  void aTornTailIsCutWithoutTheFlag(@ForAll long seed) throws IOException {
    java.util.Random r = new java.util.Random(seed);
    Path dir = Files.createTempDirectory("lodestar-storage-fuzz-torn");
    try {
      Path last = copyPristineReturningLastSegment(dir);
      byte[] bytes = Files.readAllBytes(last);
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      int lastStart = 0;
      for (int pos = 0; pos < bytes.length; pos += 16 + b.getInt(pos)) {
        lastStart = pos;
      }
      // cut somewhere inside the last record, and maybe garble what is left of it
      int keep = lastStart + 1 + r.nextInt(bytes.length - lastStart - 1);
      byte[] torn = java.util.Arrays.copyOf(bytes, keep);
      if (r.nextBoolean()) {
        torn[keep - 1] ^= (byte) 0x5a;
      }
      Files.write(last, torn);
      StateMachine sm = new StateMachine();
      LocalLog log = new LocalLog(dir, sm, 25, new SimpleMeterRegistry());
      try {
        log.open();
      } finally {
        log.close();
      }
      StateMachine expected = new StateMachine();
      for (int n = 0; n < WRITES - 1; n++) {
        expected.apply(write(n));
      }
      expected.flush();
      assertThat(sm.snapshot(0).getRegistry()).isEqualTo(expected.snapshot(0).getRegistry());
    } finally {
      delete(dir);
    }
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Copies the pristine data directory into {@code dir}; returns the copy of its last WAL segment. */
  private Path copyPristineReturningLastSegment(Path dir) throws IOException {
    Path last = null;
    try (Stream<Path> s = Files.list(pristine)) {
      for (Path p : s.sorted().toList()) {
        Path copy = Files.copy(p, dir.resolve(p.getFileName()));
        if (copy.getFileName().toString().endsWith(".wal")) {
          last = copy;
        }
      }
    }
    return last;
  }
}
