package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ServiceSnapshotTest {

  static Instance inst(String id, Instance.Health health) {
    return Instance.builder().id(id).host("10.0.0.1").port(80).health(health).build();
  }

  static Instance weighted(String id, int weight) {
    return Instance.builder().id(id).host("10.0.0.1").port(80).health(Instance.Health.HEALTHY)
        .weight(weight).build();
  }

  static List<Instance> mix(int healthy, int unhealthy) {
    List<Instance> l = new ArrayList<>();
    for (int k = 0; k < healthy; k++) {
      l.add(inst("h" + k, Instance.Health.HEALTHY));
    }
    for (int k = 0; k < unhealthy; k++) {
      l.add(inst("u" + k, Instance.Health.UNHEALTHY));
    }
    return l;
  }

  @Test
  void filtersUnhealthyWhileTheirShareIsAtOrBelowTheThreshold() {
    // 2 of 4 unhealthy = 0.5, not above the default 0.5
    ServiceSnapshot s = ServiceSnapshot.of(mix(2, 2), 0);
    assertThat(s.protectThreshold()).isEqualTo(0.5);
    assertThat(s.protectionApplied()).isFalse();
    assertThat(s.healthyInstances()).extracting(Instance::id).containsExactly("h0", "h1");
    assertThat(s.instances()).hasSize(4);
  }

  @Test
  void returnsAllInstancesMarkedWhenTheUnhealthyShareExceedsTheThreshold() {
    // 3 of 4 unhealthy = 0.75 > 0.5
    ServiceSnapshot s = ServiceSnapshot.of(mix(1, 3), 0);
    assertThat(s.protectionApplied()).isTrue();
    assertThat(s.healthyInstances()).hasSize(4);
    assertThat(s.healthyInstances()).filteredOn(i -> i.health() == Instance.Health.UNHEALTHY).hasSize(3);
  }

  @Test
  void usesTheServicesOwnThreshold() {
    // 1 of 4 unhealthy = 0.25 > 0.2
    assertThat(ServiceSnapshot.of(mix(3, 1), 0.2).protectionApplied()).isTrue();
    // 3 of 4 unhealthy = 0.75, not above 0.8
    ServiceSnapshot s = ServiceSnapshot.of(mix(1, 3), 0.8);
    assertThat(s.protectionApplied()).isFalse();
    assertThat(s.healthyInstances()).extracting(Instance::id).containsExactly("h0");
  }

  @Test
  void thresholdOneDisablesProtection() {
    ServiceSnapshot s = ServiceSnapshot.of(mix(0, 3), 1.0);
    assertThat(s.protectionApplied()).isFalse();
    assertThat(s.healthyInstances()).isEmpty();
    assertThat(s.selectOne()).isNull();
  }

  @Test
  void allUnhealthyWithDefaultThresholdServesAll() {
    ServiceSnapshot s = ServiceSnapshot.of(mix(0, 2), 0);
    assertThat(s.protectionApplied()).isTrue();
    assertThat(s.selectOne()).isNotNull();
  }

  @Test
  void unknownHealthCountsAsHealthy() {
    ServiceSnapshot s = ServiceSnapshot.of(List.of(inst("a", Instance.Health.UNKNOWN)), 0);
    assertThat(s.healthyInstances()).hasSize(1);
  }

  @Test
  void emptyServiceHasNothingToPick() {
    ServiceSnapshot s = ServiceSnapshot.of(List.of(), 0);
    assertThat(s.instances()).isEmpty();
    assertThat(s.protectionApplied()).isFalse();
    assertThat(s.selectOne()).isNull();
  }

  @Test
  void sortsByIdAndIsImmutable() {
    ServiceSnapshot s = ServiceSnapshot.of(List.of(inst("b", Instance.Health.HEALTHY), inst("a", Instance.Health.HEALTHY)), 0);
    assertThat(s.instances()).extracting(Instance::id).containsExactly("a", "b");
    assertThatThrownBy(() -> s.instances().add(inst("c", Instance.Health.HEALTHY)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void rejectsAThresholdOutsideZeroToOne() {
    assertThatThrownBy(() -> ServiceSnapshot.of(List.of(), 1.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("protectThreshold");
    assertThatThrownBy(() -> ServiceSnapshot.of(List.of(), Double.NaN))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("protectThreshold");
  }

  @Test
  void cumulativeWeightsUseTheDefaultForUnsetWeights() {
    Instance unset = inst("a", Instance.Health.HEALTHY);
    ServiceSnapshot s = ServiceSnapshot.of(List.of(unset, weighted("b", 5), weighted("c", 0)), 0);
    assertThat(s.cumulativeWeights()).containsExactly(100, 105, 105);
    assertThat(s.totalWeight()).isEqualTo(105);
  }

  /** Fixed seed, so the outcome is deterministic; the tolerance is what the weights promise. */
  @Test
  void picksInProportionToWeight() {
    ServiceSnapshot s = ServiceSnapshot.of(List.of(weighted("light", 1), weighted("heavy", 3)), 0);
    SplittableRandom random = new SplittableRandom(42);
    Map<String, Integer> counts = new HashMap<>();
    int picks = 40_000;
    for (int k = 0; k < picks; k++) {
      counts.merge(s.selectOne(random).id(), 1, Integer::sum);
    }
    assertThat(counts.get("light") / (double) picks).isCloseTo(0.25, within(0.02));
    assertThat(counts.get("heavy") / (double) picks).isCloseTo(0.75, within(0.02));
  }

  @Test
  void neverPicksWeightZeroUnlessAllAreZero() {
    ServiceSnapshot s = ServiceSnapshot.of(List.of(weighted("zero", 0), weighted("one", 1)), 0);
    SplittableRandom random = new SplittableRandom(7);
    for (int k = 0; k < 1_000; k++) {
      assertThat(s.selectOne(random).id()).isEqualTo("one");
    }
    ServiceSnapshot allZero = ServiceSnapshot.of(List.of(weighted("a", 0), weighted("b", 0)), 0);
    Map<String, Integer> counts = new HashMap<>();
    for (int k = 0; k < 1_000; k++) {
      counts.merge(allZero.selectOne(random).id(), 1, Integer::sum);
    }
    assertThat(counts).containsOnlyKeys("a", "b");
  }

  @Test
  void picksOnlyFromTheHealthyFilteredList() {
    ServiceSnapshot s = ServiceSnapshot.of(mix(2, 1), 0);
    SplittableRandom random = new SplittableRandom(1);
    for (int k = 0; k < 1_000; k++) {
      assertThat(s.selectOne(random).health()).isEqualTo(Instance.Health.HEALTHY);
    }
  }
}
