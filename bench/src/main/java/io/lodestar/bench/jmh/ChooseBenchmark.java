package io.lodestar.bench.jmh;

import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.client.Instance;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.Match;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.client.governance.RandomSource;
import io.lodestar.client.governance.ServiceGovernor;
import io.lodestar.client.governance.Ticker;
import io.lodestar.client.ratelimit.Sleeper;
import io.lodestar.client.route.CallContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * {@code choose()} over 100 instances with a route rule (canary: 5 % to version=2, chosen by a
 * header match) and the adaptive balancer; target ≤ 500 ns and zero allocation per call. Run with
 * {@code -prof gc} to see allocation (docs/benchmarks.md has the command).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ChooseBenchmark {
  /** How the route rule matches the call: a regex on a header, or an exact value. */
  @Param({"regex", "exact"})
  public String match;

  @Param({"adaptive", "weighted_random", "maglev"})
  public String policy;

  private ServiceGovernor governor;
  private CallContext call;

  @Setup
  public void setup() {
    List<Instance> instances = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      instances.add(Instance.builder().namespace("default").service("orders").id("inst-" + i)
          .host("10.0." + (i / 250) + "." + (i % 250)).port(8080).weight(100)
          .health(Instance.Health.HEALTHY).putMetadata("version", i < 95 ? "1" : "2").build());
    }
    MatchValue value = match.equals("regex") ? MatchValue.newBuilder().setRegex("user-[0-9]+").build()
        : MatchValue.newBuilder().setExact("user-42").build();
    GovernanceRules rules = GovernanceRules.newBuilder()
        .setLoadbalance(LoadBalanceRule.newBuilder().setPolicy(LoadBalanceRule.Policy.valueOf(policy.toUpperCase(java.util.Locale.ROOT))))
        .setRoute(RouteRules.newBuilder().addRules(RouteRule.newBuilder().setName("canary")
            .setMatch(Match.newBuilder().putHeaders("x-user", value))
            .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(95))
            .addDestinations(Destination.newBuilder().putSubset("version", "2").setWeight(5))))
        .build();
    governor = new ServiceGovernor("default/orders", Map.of(), Ticker.system(), RandomSource.threadLocal(),
        Sleeper.system());
    governor.update(instances, io.lodestar.client.internal.RuleSet.of(rules));
    call = CallContext.builder().method("/orders/list").header("x-user", "user-42").hashKey("user-42").build();
  }

  @Benchmark
  public Instance choose() {
    return governor.choose(call);
  }

  /** The full call path: choose, then report the outcome (breaker, adaptive statistics). */
  @Benchmark
  public Instance chooseAndReport() {
    Instance i = governor.choose(call);
    governor.report(i, call, true, 1_000_000);
    return i;
  }
}
