package io.lodestar.client.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.lodestar.client.lb.LoadBalancersTest.E;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdaptiveUpdaterTest {
  static final long SECOND = 1_000_000_000L;

  /**
   * Drives the balancer through rounds of 2 000 calls (one update interval each) against five
   * simulated instances: 0 slow (50 ms vs 5 ms), 1 failing half its calls, the rest healthy.
   */
  @Test
  void sharesMoveAwayFromSlowAndFailingInstancesAndRecoverGradually() {
    List<E> es = LoadBalancersTest.endpoints(100, 100, 100, 100, 100);
    AdaptiveUpdater updater = new AdaptiveUpdater(AdaptiveConfig.ofDefaults(), 0);
    SplittableRandom rnd = new SplittableRandom(7);
    boolean[] failing = {false, true, false, false, false};
    long now = 0;
    double[] share = null;
    for (int round = 0; round < 8; round++) {
      share = round(es, rnd, failing);
      now += SECOND;
      updater.maybeUpdate(now, es);
    }
    // slow: factor ≈ 5/50 → about 0.1 of a healthy share; failing: overloaded, probeShare 0.1
    assertThat(es.get(1).load().overloaded()).isTrue();
    assertThat(es.get(1).load().factor()).isCloseTo(0.1, within(1e-9));
    assertThat(es.get(0).load().factor()).isLessThan(0.2);
    assertThat(share[2]).isGreaterThan(0.25);
    // probes keep reaching the overloaded instance
    assertThat(share[1]).isGreaterThan(0.01);

    // the failing instance heals: its factor climbs step by step, never in one jump
    failing[1] = false;
    List<Double> climb = new ArrayList<>();
    for (int round = 0; round < 10; round++) {
      round(es, rnd, failing);
      now += SECOND;
      updater.maybeUpdate(now, es);
      climb.add(es.get(1).load().factor());
    }
    assertThat(climb.get(climb.size() - 1)).isCloseTo(1.0, within(1e-9));
    for (int i = 1; i < climb.size(); i++) {
      assertThat(climb.get(i) - climb.get(i - 1)).isLessThanOrEqualTo(0.2 + 1e-9);
    }
    assertThat(climb.stream().filter(f -> f < 1.0).count()).isGreaterThanOrEqualTo(3);
  }

  private static double[] round(List<E> es, SplittableRandom rnd, boolean[] failing) {
    Picker p = LoadBalancers.picker(LbPolicy.ADAPTIVE, es, 0);
    int[] counts = new int[es.size()];
    for (int k = 0; k < 2000; k++) {
      int i = p.pick(rnd.nextLong(), 0);
      counts[i]++;
      EndpointLoad l = es.get(i).load();
      l.onStart();
      boolean ok = !failing[i] || rnd.nextBoolean();
      l.onFinish(ok, i == 0 ? 50_000_000 : 5_000_000);
    }
    double[] s = new double[counts.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = counts[i] / 2000.0;
    }
    return s;
  }

  @Test
  void updatesOnlyWhenDue() {
    List<E> es = LoadBalancersTest.endpoints(100);
    AdaptiveUpdater updater = new AdaptiveUpdater(AdaptiveConfig.ofDefaults(), 0);
    for (int i = 0; i < 40; i++) {
      es.get(0).load().onStart();
      es.get(0).load().onFinish(false, 1);
    }
    assertThat(updater.maybeUpdate(SECOND / 2, es)).isFalse();
    assertThat(updater.maybeUpdate(SECOND, es)).isTrue();
    assertThat(es.get(0).load().overloaded()).isTrue();
  }
}
