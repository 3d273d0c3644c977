package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ProcTest {

  @Test
  void threadsNamedAlikeButForTheirNumbersAddUpUnderOneName() {
    assertThat(Proc.threadGroup("armeria-common-worker-nio-2-1")).isEqualTo("armeria-common-worker-nio");
    assertThat(Proc.threadGroup("C2 CompilerThre")).isEqualTo("C2 CompilerThre");
    assertThat(Proc.threadGroup("pool-3-thread-12")).isEqualTo("pool-3-thread");
    assertThat(Proc.threadGroup("lodestar-health")).isEqualTo("lodestar-health");
    assertThat(Proc.threadGroup("42")).isEqualTo("42");
  }

  @Test
  void aBusyThreadShowsUpUnderItsGroupWithTheCpuItUsed() throws Exception {
    long self = ProcessHandle.current().pid();
    Map<String, Double> before = Proc.threadCpuSeconds(self);
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> spinners = List.of(spinner("spin-7", stop), spinner("spin-8", stop));
    spinners.forEach(Thread::start);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> Proc.threadCpuSince(before, Proc.threadCpuSeconds(self))
          .getOrDefault("spin", 0.0) >= 0.2);
      // both spinners' time is under one name; the largest group comes first
      Map<String, Double> used = Proc.threadCpuSince(before, Proc.threadCpuSeconds(self));
      assertThat(used).doesNotContainKeys("spin-7", "spin-8");
      assertThat(List.copyOf(used.values())).isSortedAccordingTo((a, b) -> Double.compare(b, a));
      assertThat(used.values()).allMatch(v -> v >= 0.005);
    } finally {
      stop.set(true);
      for (Thread t : spinners) {
        t.join();
      }
    }
  }

  private static Thread spinner(String name, AtomicBoolean stop) {
    Thread t = new Thread(() -> {
      long x = 0;
      while (!stop.get()) {
        x += System.nanoTime() & 1; // work the JIT cannot drop
      }
      if (x == 42) {
        System.out.print("");
      }
    }, name);
    t.setDaemon(true);
    return t;
  }

  @Test
  void theMachinesIdleShareIsReadFromProcStat() throws Exception {
    // nothing asked of it but one second's reading: a share, whatever else the machine does
    double idle = Proc.awaitQuiet(0.0, Duration.ofSeconds(5));
    assertThat(idle).isBetween(0.0, 1.0);
    // a machine that is never 101 % idle: the wait ends at its limit, with that share
    assertThat(Proc.awaitQuiet(1.01, Duration.ofSeconds(2))).isBetween(0.0, 1.0);
  }
}
