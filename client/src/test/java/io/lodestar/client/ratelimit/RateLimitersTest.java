package io.lodestar.client.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.client.governance.FakeTicker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RateLimitersTest {
  final FakeTicker ticker = new FakeTicker();

  @Test
  void tokenBucketAllowsBurstThenRate() {
    TokenBucket b = new TokenBucket(10, 5, ticker, ticker.sleeper());
    int granted = 0;
    for (int i = 0; i < 20; i++) {
      granted += b.tryAcquire() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(5);
    // over 10 s at 10/s: 100 more, never more
    granted = 0;
    for (int ms = 0; ms < 10_000; ms++) {
      ticker.advance(Duration.ofMillis(1));
      granted += b.tryAcquire() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(100);
  }

  @Test
  void tokenBucketWaitsUpToTheTimeout() throws InterruptedException {
    TokenBucket b = new TokenBucket(10, 1, ticker, ticker.sleeper());
    assertThat(b.tryAcquire()).isTrue();
    long t0 = ticker.nanos();
    assertThat(b.tryAcquire(200, TimeUnit.MILLISECONDS)).isTrue();  // due in 100 ms
    assertThat(ticker.nanos() - t0).isEqualTo(100_000_000L);
    assertThat(b.tryAcquire(50, TimeUnit.MILLISECONDS)).isFalse();  // next is 100 ms away
    assertThat(ticker.nanos() - t0).isEqualTo(100_000_000L);        // refused without waiting
  }

  @Test
  void tokenBucketRateChangesAtRunTime() {
    TokenBucket b = new TokenBucket(0, 1, ticker, ticker.sleeper());
    assertThat(b.tryAcquire()).isFalse();
    b.setRate(1000, 1);
    int granted = 0;
    for (int ms = 0; ms < 1000; ms++) {
      ticker.advance(Duration.ofMillis(1));
      granted += b.tryAcquire() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(1000);
  }

  @Test
  void slidingWindowHoldsTheLimitAcrossWindowEdges() {
    SlidingWindowLimiter l = new SlidingWindowLimiter(100, Duration.ofSeconds(1).toNanos(), ticker, ticker.sleeper());
    // steady offered load of 1000/s for 5 s: grants stay at about 100/s
    int granted = 0;
    int maxInAnySecond = 0;
    int[] perMs = new int[5000];
    for (int ms = 0; ms < 5000; ms++) {
      ticker.advance(Duration.ofMillis(1));
      if (l.tryAcquire()) {
        granted++;
        perMs[ms] = 1;
      }
    }
    for (int start = 0; start + 1000 <= 5000; start += 50) {
      int sum = 0;
      for (int i = start; i < start + 1000; i++) {
        sum += perMs[i];
      }
      maxInAnySecond = Math.max(maxInAnySecond, sum);
    }
    assertThat(granted).isBetween(480, 510);
    // the two-window estimate may overshoot a sliding second slightly; stated tolerance 10 %
    assertThat(maxInAnySecond).isLessThanOrEqualTo(110);
  }

  @Test
  void slidingWindowWaitGetsThePermitInTheNextWindow() throws InterruptedException {
    SlidingWindowLimiter l = new SlidingWindowLimiter(2, Duration.ofSeconds(1).toNanos(), ticker, ticker.sleeper());
    assertThat(l.tryAcquire()).isTrue();
    assertThat(l.tryAcquire()).isTrue();
    assertThat(l.tryAcquire()).isFalse();
    assertThat(l.tryAcquire(2, TimeUnit.SECONDS)).isTrue();
    assertThat(l.tryAcquire(1, TimeUnit.MILLISECONDS)).isFalse();
  }

  @Test
  void clusterLimiterFallsBackAndFailsClosedUntilKnown() {
    ClusterLimiter closed = new ClusterLimiter("q", 100, 10, true, ticker, ticker.sleeper());
    assertThat(closed.tryAcquire()).isFalse();
    closed.fallBack(4);
    assertThat(closed.rate()).isEqualTo(25.0);
    assertThat(closed.tryAcquire()).isTrue();
    closed.grant(60, 3);
    assertThat(closed.rate()).isEqualTo(60.0);
    assertThat(closed.drainUsage()).isEqualTo(1);
    assertThat(closed.drainUsage()).isZero();
    closed.fallBackToLastKnown();
    assertThat(closed.rate()).isCloseTo(100 / 3.0, org.assertj.core.api.Assertions.within(1e-9));
    ClusterLimiter open = new ClusterLimiter("q", 100, 10, false, ticker, ticker.sleeper());
    assertThat(open.tryAcquire()).isTrue();
    open.fallBackToLastKnown();  // nothing known: stays at the global limit
    assertThat(open.rate()).isEqualTo(100.0);
  }
}
