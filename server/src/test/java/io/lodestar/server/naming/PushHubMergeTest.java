package io.lodestar.server.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Coalescing of changes that queue up behind a fan-out. */
class PushHubMergeTest {
  private static final ServiceKey KEY = new ServiceKey("default", "s");

  private static Instance inst(String id, int weight) {
    return Instance.newBuilder().setId(id).setWeight(weight).build();
  }

  private static ServiceChange change(long prev, long rev, List<Instance> ups, List<String> removed) {
    return new ServiceChange(prev, new ServiceView(KEY, ServiceInfo.getDefaultInstance(), rev, List.of()), ups,
        removed, false, false, false);
  }

  @Test
  void consecutiveChangesMergeIntoOneDeltaFromTheFirstBase() {
    ServiceChange a = change(10, 11, List.of(inst("x", 1), inst("y", 1)), List.of("old"));
    ServiceChange b = change(11, 13, List.of(inst("z", 1), inst("y", 2)), List.of("x"));
    ServiceChange m = PushHub.merge(a, b);
    assertThat(m.previousRevision()).isEqualTo(10);
    assertThat(m.view().revision()).isEqualTo(13);
    assertThat(m.upserts()).containsExactly(inst("y", 2), inst("z", 1));
    assertThat(m.removedIds()).containsExactly("old", "x");
  }

  @Test
  void removedThenAddedAgainIsAnUpsert() {
    ServiceChange m = PushHub.merge(change(1, 2, List.of(), List.of("x")), change(2, 3, List.of(inst("x", 5)), List.of()));
    assertThat(m.upserts()).containsExactly(inst("x", 5));
    assertThat(m.removedIds()).isEmpty();
  }

  @Test
  void aGapOrAResetMakesItASnapshot() {
    assertThat(PushHub.merge(change(1, 2, List.of(), List.of()), change(5, 6, List.of(), List.of()))
        .previousRevision()).isZero();
    assertThat(PushHub.merge(change(0, 2, List.of(), List.of()), change(2, 3, List.of(), List.of()))
        .previousRevision()).isZero();
  }
}
