package io.lodestar.client.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Statistical tests use a fixed seed; tolerances are stated per test and are several standard
 * deviations wide (with 200 000 draws, a share of p has a standard deviation under 0.12 %).
 */
class LoadBalancersTest {
  static final int DRAWS = 200_000;

  record E(String id, int weight, EndpointLoad load) implements Endpoint {
    E(String id, int weight) {
      this(id, weight, new EndpointLoad());
    }
  }

  static List<E> endpoints(int... weights) {
    List<E> out = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      out.add(new E("10.0.0." + i + ":80", weights[i]));
    }
    return out;
  }

  static double[] shares(Picker p, int n, boolean byKey) {
    SplittableRandom rnd = new SplittableRandom(42);
    int[] counts = new int[n];
    for (int k = 0; k < DRAWS; k++) {
      long r = rnd.nextLong();
      counts[p.pick(r, byKey ? Hashing.hash("key-" + k) : 0)]++;
    }
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = (double) counts[i] / DRAWS;
    }
    return s;
  }

  @Test
  void weightedRandomFollowsWeightsWithinOnePercent() {
    double[] s = shares(LoadBalancers.picker(LbPolicy.WEIGHTED_RANDOM, endpoints(100, 200, 700, 0), 0), 4, false);
    assertThat(s[0]).isCloseTo(0.1, within(0.01));
    assertThat(s[1]).isCloseTo(0.2, within(0.01));
    assertThat(s[2]).isCloseTo(0.7, within(0.01));
    assertThat(s[3]).isZero();
  }

  @Test
  void allZeroWeightsPickUniformly() {
    double[] s = shares(LoadBalancers.picker(LbPolicy.WEIGHTED_RANDOM, endpoints(0, 0), 0), 2, false);
    assertThat(s[0]).isCloseTo(0.5, within(0.01));
  }

  @Test
  void everyPolicyOnTheWireHasOneHereAndNoOther() {
    assertThat(java.util.Arrays.stream(LbPolicy.values()).map(io.lodestar.client.internal.RuleConfigs::proto).toList())
        .containsExactlyElementsOf(java.util.Arrays.stream(io.lodestar.api.v1.LoadBalanceRule.Policy.values())
            .filter(v -> v != io.lodestar.api.v1.LoadBalanceRule.Policy.POLICY_UNSPECIFIED
                && v != io.lodestar.api.v1.LoadBalanceRule.Policy.UNRECOGNIZED).toList());
    assertThat(io.lodestar.client.internal.RuleConfigs.lbPolicy(io.lodestar.api.v1.LoadBalanceRule.Policy.POLICY_UNSPECIFIED)).isEqualTo(LbPolicy.WEIGHTED_RANDOM);
    assertThat(io.lodestar.client.internal.RuleConfigs.lbPolicy(io.lodestar.api.v1.LoadBalanceRule.Policy.UNRECOGNIZED)).isEqualTo(LbPolicy.WEIGHTED_RANDOM);
  }

  @Test
  void emptyListPicksNone() {
    for (LbPolicy p : LbPolicy.values()) {
      assertThat(LoadBalancers.picker(p, List.of(), 0).pick(1, 1)).as(p.name()).isEqualTo(Picker.NONE);
    }
  }

  @Test
  void roundRobinIsSmoothAndExact() {
    Picker p = LoadBalancers.picker(LbPolicy.ROUND_ROBIN, endpoints(5, 1, 1), 0);
    int[] seq = new int[14];
    for (int i = 0; i < seq.length; i++) {
      seq[i] = p.pick(0, 0);
    }
    // nginx's smooth sequence for 5:1:1, twice: never a burst of 5 in a row
    assertThat(seq).containsExactly(0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0);
    double[] s = shares(LoadBalancers.picker(LbPolicy.ROUND_ROBIN, endpoints(300, 100), 0), 2, false);
    assertThat(s[0]).isCloseTo(0.75, within(0.0001));
  }

  @Test
  void leastRequestAvoidsBusyInstances() {
    List<E> es = endpoints(100, 100, 100);
    for (int i = 0; i < 50; i++) {
      es.get(0).load().onStart();
    }
    double[] s = shares(LoadBalancers.picker(LbPolicy.LEAST_REQUEST, es, 0), 3, false);
    // the busy one wins only when both draws are itself, impossible with distinct draws
    assertThat(s[0]).isZero();
    assertThat(s[1]).isCloseTo(0.5, within(0.01));
  }

  @Test
  void hashPoliciesSpreadEvenlyAndAreStablePerKey() {
    for (LbPolicy policy : List.of(LbPolicy.RING_HASH, LbPolicy.MAGLEV)) {
      Picker p = LoadBalancers.picker(policy, endpoints(100, 100, 100, 100, 100), 0);
      double[] s = shares(p, 5, true);
      for (double share : s) {
        // ring hash with 1000 virtual nodes per endpoint: σ ≈ 3 % of 20 %; tolerance 0.03 (5σ)
        assertThat(share).as(policy.name()).isCloseTo(0.2, within(0.03));
      }
      long h = Hashing.hash("user-17");
      int first = p.pick(1, h);
      assertThat(p.pick(999, h)).isEqualTo(first);
    }
  }

  @Test
  void membershipChangeMovesAboutOneNthOfKeys() {
    int n = 10;
    for (LbPolicy policy : List.of(LbPolicy.RING_HASH, LbPolicy.MAGLEV)) {
      List<E> before = endpoints(new int[n]);
      before.replaceAll(e -> new E(e.id(), 100));
      List<E> after = new ArrayList<>(before);
      after.add(new E("10.0.1.99:80", 100));
      Picker p1 = LoadBalancers.picker(policy, before, 0);
      Picker p2 = LoadBalancers.picker(policy, after, 0);
      int moved = 0;
      int keys = 50_000;
      for (int k = 0; k < keys; k++) {
        long h = Hashing.hash("key-" + k);
        if (!before.get(p1.pick(0, h)).id().equals(after.get(p2.pick(0, h)).id())) {
          moved++;
        }
      }
      // ideal: 1/(N+1) = 9.1 % of keys move (to the new member); tolerance ε = 3 %
      assertThat((double) moved / keys).as(policy.name()).isLessThanOrEqualTo(1.0 / (n + 1) + 0.03);
    }
  }

  @Test
  void maglevFollowsWeights() {
    double[] s = shares(LoadBalancers.picker(LbPolicy.MAGLEV, endpoints(100, 300), 0), 2, true);
    assertThat(s[1]).isCloseTo(0.75, within(0.02));
  }
}
