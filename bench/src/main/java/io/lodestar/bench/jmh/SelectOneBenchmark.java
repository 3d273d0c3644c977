package io.lodestar.bench.jmh;

import io.lodestar.client.Instance;
import io.lodestar.client.ServiceSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The SDK's discovery hot path over 100 cached instances (a fifth unhealthy, weights 1–200,
 * 5 metadata entries): {@code pick} is what every call pays — the healthy filter is applied once
 * per pushed update, when the snapshot is built; {@code buildAndPick} pays the filter and the
 * cumulative weights on every call, an upper bound.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SelectOneBenchmark {
  private List<Instance> instances;
  private ServiceSnapshot snapshot;

  @Setup
  public void setUp() {
    SplittableRandom r = new SplittableRandom(42);
    instances = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Instance.Builder b = Instance.builder().id("i-" + i).namespace("default").service("orders")
          .host("10.0.0." + i).port(8080).weight(1 + r.nextInt(200))
          .health(i % 5 == 0 ? Instance.Health.UNHEALTHY : Instance.Health.HEALTHY);
      for (int m = 0; m < 5; m++) {
        b.putMetadata("k" + m, "v" + m);
      }
      instances.add(b.build());
    }
    snapshot = ServiceSnapshot.of(instances, 0.5);
  }

  @Benchmark
  public Instance pick() {
    return snapshot.selectOne();
  }

  @Benchmark
  public Instance buildAndPick() {
    return ServiceSnapshot.of(instances, 0.5).selectOne();
  }
}
