package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
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
    Map<String, JfrProfile.Summary> s = JfrProfile.summarize(file, windows);

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
