package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real JFR recording of this JVM, cut into windows: the samples land where the time was spent. */
class JfrProfileTest {
  private static volatile long sink;

  @Test
  void aWindowsSamplesArePutDownToTheCodeThatSpentThem(@TempDir Path dir) throws Exception {
    Instant before = Instant.now();
    JfrProfile.Recorder recorder = JfrProfile.thisJvm();
    Instant from = Instant.now();
    long cpuEnd = cpuNanos() + 400_000_000L; // 0.4 s of this thread's CPU: ~40 samples at 10 ms
    while (cpuNanos() < cpuEnd) {
      spin();
    }
    Instant to = Instant.now();
    Path file = recorder.stop(dir.resolve("r.jfr"));

    Map<String, Instant[]> windows = new LinkedHashMap<>();
    windows.put("spin", new Instant[] {from, to});
    windows.put("before", new Instant[] {before.minusSeconds(60), before});
    Map<String, JfrProfile.Summary> s = JfrProfile.read(file, windows).samples();

    assertThat(s).containsOnlyKeys("spin", "before");
    assertThat(s.get("before").samples()).isZero();
    JfrProfile.Summary spin = s.get("spin");
    assertThat(spin.samples()).isGreaterThanOrEqualTo(5);
    // the JDK's String.hashCode is on top, but the time is this package's: it asked for it
    assertThat(spin.code().get(0).name()).isEqualTo("io.lodestar.bench");
    assertThat(spin.code().get(0).share()).isGreaterThan(0.5);
    // a JDK method on top names the caller outside the JDK that asked for it
    assertThat(spin.methods().get(0).name()).matches("(.+ ← )?JfrProfileTest\\.spin");
    assertThat(spin.methods()).extracting(JfrProfile.Share::name)
        .anyMatch(m -> m.matches("(String|Integer).* ← JfrProfileTest\\.spin"));
    assertThat(JfrProfile.line(spin)).startsWith(spin.samples() + " samples: io.lodestar.bench ");
  }

  @Test
  void codeIsGroupedByItsPackagesFirstThreeNames() {
    assertThat(JfrProfile.codeGroup("io.netty.handler.codec.http2.DefaultHttp2FrameWriter")).isEqualTo("io.netty.handler");
    assertThat(JfrProfile.codeGroup("io.grpc.internal.ServerImpl")).isEqualTo("io.grpc.internal");
    assertThat(JfrProfile.codeGroup("org.apache.zookeeper.ZooKeeper")).isEqualTo("org.apache.zookeeper");
    assertThat(JfrProfile.codeGroup("a.b.C")).isEqualTo("a.b");
    assertThat(JfrProfile.codeGroup("Main")).isEqualTo("Main");
    // hidden classes (lambdas, method handles) are named by what they were made from, not by a number
    assertThat(JfrProfile.Counts.simpleName("io.netty.util.Foo$$Lambda$12.640935133")).isEqualTo("Foo$$Lambda$12");
    assertThat(JfrProfile.Counts.simpleName("java.lang.invoke.LambdaForm$MH.493695650")).isEqualTo("LambdaForm$MH");
    assertThat(JfrProfile.Counts.simpleName("io.lodestar.server.Registry")).isEqualTo("Registry");
  }

  @Test
  void aWindowsCompilationsAreCountedWithThoseOfAMethodCompiledAgainApart() {
    Instant t0 = Instant.parse("2026-12-07T10:00:00Z");
    java.util.function.BiFunction<String, Integer, JfrProfile.Compilation> at = (m, s) ->
        new JfrProfile.Compilation("io.grpc.internal.MessageDeframer", m, "()V", 4, false, t0.plusSeconds(s),
            java.time.Duration.ofMillis(100));
    List<JfrProfile.Compilation> all = List.of(
        at.apply("deliver", 1), // before the window: compiled once
        at.apply("deliver", 11), // the same method at the same tier again: a recompilation
        new JfrProfile.Compilation("io.grpc.internal.MessageDeframer", "deliver", "()V", 1, false,
            t0.plusSeconds(12), java.time.Duration.ofMillis(20)), // another tier: not again
        new JfrProfile.Compilation("io.grpc.internal.MessageDeframer", "deliver", "()V", 4, true,
            t0.plusSeconds(13), java.time.Duration.ofMillis(30)), // on-stack replacement: its own kind
        new JfrProfile.Compilation("io.lodestar.client.Connection", "register", "(J)V", 4, false,
            t0.plusSeconds(14), java.time.Duration.ofMillis(50)),
        at.apply("readRequiredBytes", 25)); // after the window
    Map<String, Instant[]> windows = new LinkedHashMap<>();
    windows.put("W1", new Instant[] {t0.plusSeconds(10), t0.plusSeconds(20)});
    windows.put("idle", new Instant[] {t0.plusSeconds(30), t0.plusSeconds(40)});
    // the order the events were read in does not matter: a JFR file holds them by chunk and thread
    List<JfrProfile.Compilation> shuffled = new java.util.ArrayList<>(all);
    java.util.Collections.reverse(shuffled);

    Map<String, JfrProfile.Jit> jit = JfrProfile.jit(shuffled, windows);

    JfrProfile.Jit w1 = jit.get("W1");
    assertThat(w1.compilations()).isEqualTo(4);
    assertThat(w1.seconds()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(w1.again()).isEqualTo(1);
    assertThat(w1.againSeconds()).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(w1.code()).extracting(JfrProfile.Share::name).containsExactly("io.grpc.internal", "io.lodestar.client");
    assertThat(w1.code().get(0).share()).isCloseTo(0.75, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(w1.methods().get(0)).isEqualTo(new JfrProfile.Share("MessageDeframer.deliver", 0.75));
    assertThat(JfrProfile.line(w1)).isEqualTo("0.20 s in 4 compilations (again: 0.10 s in 1): io.grpc.internal 75 %, "
        + "io.lodestar.client 25 %; longest MessageDeframer.deliver 75 %, Connection.register 25 %");
    assertThat(jit.get("idle").compilations()).isZero();
    assertThat(JfrProfile.line(jit.get("idle"))).isEqualTo("no compilations");
  }

  @Test
  void aRealRecordingHoldsTheCompilationsOfCodeRunHotInTheWindow(@TempDir Path dir) throws Exception {
    JfrProfile.Recorder recorder = JfrProfile.thisJvm();
    Instant from = Instant.now();
    long x = 0;
    for (int i = 0; i < 200_000; i++) { // far past every tier's invocation threshold
      x += hot(i);
    }
    sink += x;
    Instant to = Instant.now();
    Path file = recorder.stop(dir.resolve("r.jfr"));

    Map<String, Instant[]> windows = new LinkedHashMap<>();
    windows.put("hot", new Instant[] {from, to.plusSeconds(5)}); // a compilation may start as the loop ends
    JfrProfile.Jit hot = JfrProfile.read(file, windows).jit().get("hot");
    assertThat(hot.compilations()).isPositive();
    assertThat(hot.seconds()).isPositive();
    // the loop's method (compiled on the stack, with hot() inlined) is this package's, and the longest
    // of this window's few compilations
    assertThat(hot.code()).extracting(JfrProfile.Share::name).contains("io.lodestar.bench");
  }

  /** Run only by the test above, so its compilations start in that test's window. */
  private static long hot(int i) {
    return Long.rotateLeft(i * 0x9E3779B97F4A7C15L, i & 63) ^ (i >>> 3);
  }

  private static long cpuNanos() {
    return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }

  private static void spin() {
    long x = 0;
    for (int i = 0; i < 10_000; i++) {
      x += Integer.toString(i).hashCode();
    }
    sink += x;
  }
}
