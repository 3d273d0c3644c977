package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ApplyStallTest {
  private static final long PERIOD = TimeUnit.SECONDS.toNanos(30);
  private final ApplyStall stall = new ApplyStall(PERIOD);

  @Test
  void aMemberWithNothingToApplyIsNeverStalled() {
    assertThat(stall.check(100, 100, 0, i -> false)).isNull();
    assertThat(stall.check(100, 100, 10 * PERIOD, i -> false)).isNull();
  }

  @Test
  void behindButMovingIsNotStalled() {
    assertThat(stall.check(100, 500, 0, i -> false)).isNull();
    assertThat(stall.check(101, 500, PERIOD, i -> false)).isNull();
    assertThat(stall.check(150, 500, 2 * PERIOD - 1, i -> false)).isNull();
  }

  @Test
  void heldWithItsNextEntryInTheLogIsSlowNotStalled() {
    assertThat(stall.check(100, 500, 0, i -> true)).isNull();
    assertThat(stall.check(100, 500, 5 * PERIOD, i -> true)).isNull();
  }

  @Test
  void heldWithoutItsNextEntryForAPeriodIsStalledUntilItMovesAgain() {
    long[] asked = new long[1];
    assertThat(stall.check(2381, 3828, 0, i -> false)).isNull();
    assertThat(stall.check(2381, 3828, PERIOD - 1, i -> false)).as("not yet a period").isNull();
    String reason = stall.check(2381, 3828, PERIOD, i -> {
      asked[0] = i;
      return false;
    });
    assertThat(asked[0]).isEqualTo(2382);
    assertThat(reason).contains("stopped applying at log index 2381 while 3828 is committed", "holds no entry 2382",
        "rebuild it", "--join");
    assertThat(stall.check(2381, 3900, PERIOD + 1, i -> {
      throw new AssertionError("the log is looked at once per stall");
    })).isEqualTo(reason);

    assertThat(stall.check(3900, 3900, PERIOD + 2, i -> false)).as("applying again").isNull();
    assertThat(stall.check(3900, 4000, PERIOD + 3, i -> false)).isNull();
  }
}
