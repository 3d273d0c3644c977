package io.lodestar.core.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class QuotaAllocatorTest {
  @Test
  void evenSharesWhenEveryDemandFits() {
    assertThat(QuotaAllocator.allocate(300, new double[] {10, 50, 100}, 0.2)).containsExactly(100, 100, 100);
  }

  @Test
  void sharesFollowDemandWithAGuaranteedMinimumAndAddUpToTheLimit() {
    double[] s = QuotaAllocator.allocate(90, new double[] {10, 10, 200}, 0.2);
    assertThat(Arrays.stream(s).sum()).isCloseTo(90, within(1e-9));
    assertThat(s[0]).isGreaterThanOrEqualTo(6);   // 20 % of the even 30
    assertThat(s[2]).isGreaterThan(60);
    assertThat(s[0]).isEqualTo(s[1]);
  }

  @Test
  void noSharersNoShares() {
    assertThat(QuotaAllocator.allocate(100, new double[0], 0.2)).isEmpty();
  }
}
