package io.lodestar.bench.jmh;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.naming.Registry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The applier's registry work for one batch of a fill: 8 registrations, each into another
 * service of {@code perService} instances, applied and flushed (the services' new views built).
 * Each registration replaces an instance (a new port), so the services keep their size. Forked
 * with the server's JIT (C1 only, as the launcher runs the node) unless {@code -jvmArgs} says
 * otherwise.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-XX:TieredStopAtLevel=1")
public class RegistryFlushBenchmark {
  private static final int SERVICES = 100;
  private static final int BATCH = 8;

  /** Instances per service: the million tier's (100) and a larger service. */
  @Param({"100", "1000"})
  public int perService;

  private Registry registry;
  private Command[][] batches;
  private int next;

  @Setup
  public void setup() {
    registry = new Registry();
    for (int s = 0; s < SERVICES; s++) {
      for (int i = 0; i < perService; i++) {
        registry.apply(register(s, i, 9000));
      }
    }
    registry.flush();
    // enough distinct batches that each port alternates between two values, batch after batch
    batches = new Command[SERVICES * perService / BATCH * 2][];
    for (int b = 0; b < batches.length; b++) {
      Command[] batch = new Command[BATCH];
      for (int k = 0; k < BATCH; k++) {
        int n = (b * BATCH + k) % (SERVICES * perService);
        batch[k] = register(n % SERVICES, (n / SERVICES) * 7919 % perService, 9001 + (b * BATCH + k) / (SERVICES
            * perService) % 2);
      }
      batches[b] = batch;
    }
  }

  private static Command register(int service, int id, int port) {
    return Command.newBuilder().setTimeMs(1).setRegisterInstance(RegisterInstance.newBuilder().setInstance(
        Instance.newBuilder().setNamespace("default").setService("svc-" + service).setId("inst-" + id)
            .setHost("10.0." + (id >> 8 & 255) + "." + (id & 255)).setPort(port).setEphemeral(true)
            .putMetadata("zone", "z" + id % 3).putMetadata("version", "1"))).build();
  }

  @Benchmark
  public Registry applyAndFlushABatch() {
    Command[] batch = batches[next];
    next = next + 1 == batches.length ? 0 : next + 1;
    for (Command c : batch) {
      registry.apply(c);
    }
    registry.flush();
    return registry;
  }
}
