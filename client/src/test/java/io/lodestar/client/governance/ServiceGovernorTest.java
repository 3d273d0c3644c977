package io.lodestar.client.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.lodestar.api.v1.BreakerSettings;
import io.lodestar.api.v1.CircuitBreakerRule;
import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.client.Instance;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.Match;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.client.breaker.CircuitBreaker.State;
import io.lodestar.client.governance.GovernanceException.Reason;
import io.lodestar.client.route.CallContext;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ServiceGovernorTest {
  final FakeTicker ticker = new FakeTicker();
  final SplittableRandom rnd = new SplittableRandom(3);
  final ServiceGovernor gov = new ServiceGovernor("orders", Map.of(), ticker, rnd::nextLong, ticker.sleeper());

  static List<Instance> instances(int n, String version) {
    List<Instance> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Instance.builder().id(version + "-" + i).host("10.0.0." + i).port(80).weight(100)
          .health(Instance.Health.HEALTHY).putMetadata("version", version).build());
    }
    return out;
  }

  Map<String, Integer> shares(int calls, CallContext ctx) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      Instance in = gov.choose(ctx);
      counts.merge(in.id(), 1, Integer::sum);
      gov.report(in, ctx, true, 1_000_000);
    }
    return counts;
  }

  @Test
  void canaryThroughTheWholeCallPath() {
    List<Instance> all = new ArrayList<>(instances(4, "1"));
    all.addAll(instances(1, "2"));
    gov.update(all, GovernanceRules.newBuilder().setRoute(RouteRules.newBuilder().addRules(RouteRule.newBuilder()
        .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(95))
        .addDestinations(Destination.newBuilder().putSubset("version", "2").setWeight(5)))).build());
    int n = 100_000;
    int v2 = shares(n, CallContext.empty()).getOrDefault("2-0", 0);
    assertThat((double) v2 / n).isCloseTo(0.05, within(0.005));
  }

  @Test
  void emptySubsetFallsBackOrFails() {
    RouteRules.Builder route = RouteRules.newBuilder().addRules(RouteRule.newBuilder()
        .setMatch(Match.newBuilder().putHeaders("x-env", MatchValue.newBuilder().setExact("gray").build()))
        .addDestinations(Destination.newBuilder().putSubset("version", "9")));
    gov.update(instances(2, "1"), GovernanceRules.newBuilder().setRoute(route).build());
    CallContext gray = CallContext.builder().header("x-env", "gray").build();
    assertThat(gov.choose(gray).id()).startsWith("1-");
    gov.update(instances(2, "1"), GovernanceRules.newBuilder().setRoute(route.setFallback(io.lodestar.api.v1.RouteRules.Fallback.FAIL)).build());
    assertThatThrownBy(() -> gov.choose(gray)).isInstanceOf(GovernanceException.class)
        .hasMessageContaining("version=9").extracting(e -> ((GovernanceException) e).reason())
        .isEqualTo(Reason.SUBSET_EMPTY);
    assertThat(gov.choose(CallContext.empty()).id()).startsWith("1-");  // other calls are unaffected
    gov.update(List.of(), GovernanceRules.getDefaultInstance());
    assertThatThrownBy(() -> gov.choose(CallContext.empty())).extracting(e -> ((GovernanceException) e).reason())
        .isEqualTo(Reason.NO_INSTANCE);
  }

  @Test
  void breakerEjectsAFailingInstanceProbesItAndRestoresIt() {
    gov.update(instances(4, "1"), GovernanceRules.newBuilder().setCircuitbreaker(CircuitBreakerRule.newBuilder()
        .setInstance(BreakerSettings.newBuilder().setConsecutiveErrors(3).setOpenMs(10_000).setHalfOpenProbes(2)
            .setSuccessesToClose(2))).build());
    Instance bad = gov.choose(CallContext.empty());
    for (int i = 0; i < 3; i++) {
      gov.report(bad, CallContext.empty(), false, 0);
    }
    assertThat(gov.breakerState(bad.id())).isEqualTo(State.OPEN);
    assertThat(shares(10_000, CallContext.empty())).doesNotContainKey(bad.id());

    ticker.advance(Duration.ofSeconds(10));
    Map<String, Integer> probing = shares(10_000, CallContext.empty());
    // two probes only, both succeed (shares() reports success), and the breaker closes
    assertThat(gov.breakerState(bad.id())).isEqualTo(State.CLOSED);
    assertThat(probing.get(bad.id())).isGreaterThan(2);  // back in full rotation after closing
  }

  @Test
  void ejectionNeverExceedsTheCap() {
    gov.update(instances(4, "1"), GovernanceRules.newBuilder().setCircuitbreaker(CircuitBreakerRule.newBuilder()
        .setInstance(BreakerSettings.newBuilder().setConsecutiveErrors(1)).setMaxEjectionShare(0.5)).build());
    for (Instance i : instances(4, "1")) {
      gov.report(i, CallContext.empty(), false, 0);  // every breaker opens
      ticker.advance(Duration.ofMillis(1));         // in a known order
    }
    Map<String, Integer> s = shares(4_000, CallContext.empty());
    // at most half may be ejected: the two that opened first
    assertThat(s.keySet()).containsExactlyInAnyOrder("1-2", "1-3");
  }

  @Test
  void nearbyFallsBackToTheRegionWhenBreakersEmptyTheZone() {
    ServiceGovernor near = new ServiceGovernor("orders", Map.of("zone", "z1", "region", "r1"), ticker, rnd::nextLong,
        ticker.sleeper());
    List<Instance> all = new ArrayList<>();
    String[][] where = {{"a", "z1", "r1"}, {"b", "z1", "r1"}, {"c", "z2", "r1"}, {"d", "z3", "r2"}};
    for (String[] w : where) {
      all.add(Instance.builder().id(w[0]).host("h").port(1).weight(100).putMetadata("zone", w[1])
          .putMetadata("region", w[2]).build());
    }
    near.update(all, GovernanceRules.newBuilder()
        .setRoute(RouteRules.newBuilder().setNearby(io.lodestar.api.v1.Nearby.newBuilder().setEnabled(true)
            .setMinHealthyShare(0.3)))
        .setCircuitbreaker(CircuitBreakerRule.newBuilder().setInstance(BreakerSettings.newBuilder()
            .setConsecutiveErrors(1)).setMaxEjectionShare(0.5)).build());
    assertThat(ids(near, 1000)).containsExactlyInAnyOrder("a", "b");
    near.report(all.get(0), CallContext.empty(), false, 0);
    assertThat(ids(near, 1000)).containsExactly("b");         // 1 of 2 healthy in the zone ≥ 30 %
    near.report(all.get(1), CallContext.empty(), false, 0);
    assertThat(ids(near, 1000)).containsExactly("c");         // zone empty; region: 1 of 3 ≥ 30 %
  }

  private static java.util.Set<String> ids(ServiceGovernor g, int calls) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (int i = 0; i < calls; i++) {
      out.add(g.choose(CallContext.empty()).id());
    }
    return out;
  }

  @Test
  void methodBreakerOpensForItsMethodOnly() {
    gov.update(instances(2, "1"), GovernanceRules.newBuilder().setCircuitbreaker(CircuitBreakerRule.newBuilder()
        .putMethods("/pay", BreakerSettings.newBuilder().setConsecutiveErrors(2).build())).build());
    CallContext pay = CallContext.builder().method("/pay").build();
    CallContext list = CallContext.builder().method("/list").build();
    for (int i = 0; i < 2; i++) {
      Instance in = gov.choose(pay);
      gov.report(in, pay, false, 0);
    }
    assertThatThrownBy(() -> gov.choose(pay)).hasMessageContaining("method /pay");
    assertThat(gov.choose(list)).isNotNull();
  }

  @Test
  void serviceBreakerFailsCallsClearly() {
    gov.update(instances(2, "1"), GovernanceRules.newBuilder().setCircuitbreaker(CircuitBreakerRule.newBuilder()
        .setService(BreakerSettings.newBuilder().setConsecutiveErrors(2))).build());
    Instance i = gov.choose(CallContext.empty());
    gov.report(i, CallContext.empty(), false, 0);
    gov.report(i, CallContext.empty(), false, 0);
    assertThatThrownBy(() -> gov.choose(CallContext.empty())).hasMessageContaining("circuit breaker of service orders")
        .extracting(e -> ((GovernanceException) e).reason()).isEqualTo(Reason.CIRCUIT_OPEN);
  }

  @Test
  void rateLimitRefusesByMethod() throws InterruptedException {
    gov.update(instances(1, "1"), GovernanceRules.newBuilder().setRatelimit(RateLimitRules.newBuilder()
        .addRules(RateLimitRule.newBuilder().setName("pay").setLimit(3).setIntervalMs(1000)
            .setMatch(Match.newBuilder().setMethod(MatchValue.newBuilder().setExact("/pay"))))).build());
    CallContext pay = CallContext.builder().method("/pay").build();
    for (int i = 0; i < 3; i++) {
      gov.acquire(pay);
    }
    assertThatThrownBy(() -> gov.acquire(pay)).hasMessageContaining("rate limit pay");
    gov.acquire(CallContext.builder().method("/list").build());  // not limited
    ticker.advance(Duration.ofSeconds(1));
    gov.acquire(pay);
  }

  @Test
  void hashKeyFromHeaderIsSticky() {
    gov.update(instances(10, "1"), GovernanceRules.newBuilder().setLoadbalance(LoadBalanceRule.newBuilder()
        .setPolicy(io.lodestar.api.v1.LoadBalanceRule.Policy.RING_HASH).setHashHeader("X-User")).build());
    CallContext alice = CallContext.builder().header("x-user", "alice").build();
    String first = gov.choose(alice).id();
    for (int i = 0; i < 100; i++) {
      assertThat(gov.choose(alice).id()).isEqualTo(first);
    }
  }

  @Test
  void chooseAllocatesNothing() {
    List<Instance> all = new ArrayList<>(instances(95, "1"));
    all.addAll(instances(5, "2"));
    gov.update(all, GovernanceRules.newBuilder().setLoadbalance(LoadBalanceRule.newBuilder().setPolicy(io.lodestar.api.v1.LoadBalanceRule.Policy.ADAPTIVE))
        .setRoute(RouteRules.newBuilder().addRules(RouteRule.newBuilder()
            .setMatch(Match.newBuilder().putHeaders("x-user", MatchValue.newBuilder().setRegex("u-[0-9]+").build()))
            .addDestinations(Destination.newBuilder().putSubset("version", "2").setWeight(5))
            .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(95)))).build());
    ServiceGovernor live = new ServiceGovernor("orders", Map.of(), Ticker.system(), RandomSource.threadLocal(),
        io.lodestar.client.ratelimit.Sleeper.system());
    live.update(all, GovernanceRules.newBuilder().setLoadbalance(LoadBalanceRule.newBuilder().setPolicy(io.lodestar.api.v1.LoadBalanceRule.Policy.ADAPTIVE))
        .setRoute(RouteRules.newBuilder().addRules(RouteRule.newBuilder()
            .setMatch(Match.newBuilder().putHeaders("x-user", MatchValue.newBuilder().setRegex("u-[0-9]+").build()))
            .addDestinations(Destination.newBuilder().putSubset("version", "2").setWeight(5))
            .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(95)))).build());
    CallContext ctx = CallContext.builder().header("x-user", "u-42").build();
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    for (int i = 0; i < 50_000; i++) {
      live.choose(ctx);
    }
    long before = mx.getThreadAllocatedBytes(tid);
    int calls = 200_000;
    for (int i = 0; i < calls; i++) {
      live.choose(ctx);
    }
    long bytes = mx.getThreadAllocatedBytes(tid) - before;
    // zero per call; a few hundred bytes of slack for the measurement itself
    assertThat(bytes).as("bytes allocated by %d choose() calls", calls).isLessThan(1024);
  }
}
