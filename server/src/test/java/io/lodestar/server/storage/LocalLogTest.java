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
}
