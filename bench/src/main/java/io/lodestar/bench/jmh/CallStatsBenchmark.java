package io.lodestar.bench.jmh;

import io.lodestar.client.governance.ErrorKind;
import io.lodestar.client.internal.stats.ServiceCalls;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the call statistics add to each reported call: {@code ServiceCalls.record} (two lookups and
 * a wait-free histogram record) over 100 instances × 4 methods of one service, success and
 * failure. Target ≤ 100 ns and zero allocation; run with {@code -prof gc} (docs/benchmarks.md).
 * {@code contended} has two threads record on the same edges.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CallStatsBenchmark {
  private static final String[] METHODS = {"/orders/list", "/orders/get", "/orders/put", "/orders/cancel"};
  private final String[] ids = new String[100];
  private ServiceCalls calls;
  private int next;

  @Setup
  public void setup() {
    calls = new ServiceCalls("default", "orders");
    for (int i = 0; i < ids.length; i++) {
      ids[i] = "inst-" + i;
      for (String m : METHODS) {
        calls.record(ids[i], m, null, 1_000_000);  // edges exist, as after the first window
      }
    }
  }

  @Benchmark
  public void recordSuccess() {
    int n = next++ & 0x7fff_ffff;
    calls.record(ids[n % ids.length], METHODS[n & 3], null, 1_000_000 + n % 5_000_000);
  }

  @Benchmark
  public void recordFailure() {
    int n = next++ & 0x7fff_ffff;
    calls.record(ids[n % ids.length], METHODS[n & 3], ErrorKind.TIMEOUT, 1_000_000 + n % 5_000_000);
  }

  @Benchmark
  @Threads(2)
  public void contended() {
    int n = next++ & 0x7fff_ffff;  // a racy counter is fine: it only spreads the edges
    calls.record(ids[n % ids.length], METHODS[n & 3], null, 1_000_000 + n % 5_000_000);
  }
}
