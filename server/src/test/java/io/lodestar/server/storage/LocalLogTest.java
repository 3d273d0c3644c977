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
    StateMachine again = new StateMachine();
    LocalLog reopened = new LocalLog(dir, again, 50, new SimpleMeterRegistry());
    reopened.open();
    try {
      assertThat(again.registry().instanceCount()).isEqualTo(2000);
      assertThat(again.snapshot(0).getRegistry()).isEqualTo(first.snapshot(0).getRegistry());
    } finally {
      reopened.close();
    }
  }
}
