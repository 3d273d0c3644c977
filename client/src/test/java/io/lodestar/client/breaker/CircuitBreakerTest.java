package io.lodestar.client.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lodestar.client.breaker.CircuitBreaker.State;
import io.lodestar.client.governance.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  final FakeTicker ticker = new FakeTicker();
  final List<String> transitions = new ArrayList<>();

  CircuitBreaker breaker(CircuitBreakerConfig c) {
    return new CircuitBreaker("b", c, ticker, (b, from, to) -> transitions.add(from + ">" + to));
  }

  @Test
  void consecutiveErrorsOpenThenHalfOpenProbesThenClose() {
    CircuitBreaker b = breaker(CircuitBreakerConfig.custom().consecutiveErrors(3).openDuration(Duration.ofSeconds(30))
        .halfOpenProbes(3).successesToClose(2).build());
    b.onResult(false, 0);
    b.onResult(false, 0);
    b.onResult(true, 0);   // a success resets the run
    b.onResult(false, 0);
    b.onResult(false, 0);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    b.onResult(false, 0);
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.tryAcquire()).isFalse();

    ticker.advance(Duration.ofSeconds(29));
    assertThat(b.tryAcquire()).isFalse();
    ticker.advance(Duration.ofSeconds(1));
    // half-open: exactly three probes
    assertThat(b.tryAcquire()).isTrue();
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    assertThat(b.tryAcquire()).isTrue();
    assertThat(b.tryAcquire()).isTrue();
    assertThat(b.tryAcquire()).isFalse();
    b.onResult(true, 0);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    b.onResult(true, 0);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(transitions).containsExactly("CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED");
  }

  @Test
  void failingProbesReopen() {
    CircuitBreaker b = breaker(CircuitBreakerConfig.custom().consecutiveErrors(1).halfOpenProbes(10)
        .successesToClose(8).build());
    b.onResult(false, 0);
    ticker.advance(CircuitBreakerConfig.DEFAULT_OPEN_DURATION);
    assertThat(b.state(ticker.nanos())).isEqualTo(State.HALF_OPEN);
    b.onResult(false, 0);
    b.onResult(false, 0);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);  // 10 probes, 8 needed: two failures are tolerated
    b.onResult(false, 0);
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.reopensAt()).isEqualTo(ticker.nanos() + CircuitBreakerConfig.DEFAULT_OPEN_DURATION.toNanos());
  }

  @Test
  void errorRateNeedsMinimumCallsAndForgetsOldBuckets() {
    CircuitBreaker b = breaker(CircuitBreakerConfig.custom().consecutiveErrors(0).errorRate(0.5).minCalls(10)
        .window(Duration.ofSeconds(10)).windowBuckets(10).build());
    for (int i = 0; i < 4; i++) {
      b.onResult(false, 0);
      b.onResult(true, 0);
    }
    assertThat(b.state()).isEqualTo(State.CLOSED);  // 50 % but only 8 calls
    ticker.advance(Duration.ofSeconds(11));         // the window forgets them
    for (int i = 0; i < 4; i++) {
      b.onResult(false, 0);
      b.onResult(true, 0);
    }
    b.onResult(true, 0);
    assertThat(b.state()).isEqualTo(State.CLOSED);  // 4 of 9
    b.onResult(false, 0);
    assertThat(b.state()).isEqualTo(State.OPEN);    // 5 of 10
  }

  @Test
  void slowCallRateOpens() {
    CircuitBreaker b = breaker(CircuitBreakerConfig.custom().consecutiveErrors(0).slowCallDuration(Duration.ofMillis(100))
        .slowCallRate(0.8).minCalls(5).build());
    for (int i = 0; i < 4; i++) {
      b.onResult(true, 200_000_000);
    }
    b.onResult(true, 1_000_000);
    assertThat(b.state()).isEqualTo(State.OPEN);  // 4 of 5 slow
  }

  @Test
  void aThrowingListenerDoesNotBreakTheBreaker() {
    CircuitBreaker b = new CircuitBreaker("b", CircuitBreakerConfig.custom().consecutiveErrors(1).build(), ticker,
        (x, f, t) -> {
          throw new IllegalStateException("boom");
        });
    b.onResult(false, 0);
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void badConfigNamesTheField() {
    assertThatThrownBy(() -> CircuitBreakerConfig.custom().errorRate(1.5)).hasMessageContaining("errorRate");
    assertThatThrownBy(() -> CircuitBreakerConfig.custom().halfOpenProbes(2).successesToClose(3).build())
        .hasMessageContaining("successesToClose");
    assertThatThrownBy(() -> CircuitBreakerConfig.custom().openDuration(Duration.ZERO))
        .hasMessageContaining("openDuration");
  }
}
