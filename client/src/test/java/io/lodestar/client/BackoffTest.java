package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Reconnect delays: never above the cap (back within 2 s by default, however long the outage), yet spread. */
class BackoffTest {
  @Test
  void delaysGrowToTheCapNeverPassItAndSpreadOverItsUpperHalf() {
    Backoff b = new Backoff(LodestarClient.DEFAULT_INITIAL_BACKOFF, LodestarClient.DEFAULT_MAX_BACKOFF);
    long max = LodestarClient.DEFAULT_MAX_BACKOFF.toMillis();
    assertThat(max).isLessThanOrEqualTo(2_000);
    Set<Long> atCap = new HashSet<>();
    for (int i = 0; i < 1_000; i++) {  // an outage of any length
      long d = b.nextDelayMillis();
      assertThat(d).isBetween(1L, max);
      if (i > 20) {
        assertThat(d).isGreaterThanOrEqualTo(max / 2);
        atCap.add(d);
      }
    }
    assertThat(atCap).as("jitter: a fleet does not reconnect in lockstep").hasSizeGreaterThan(100);
    b.reset();
    assertThat(b.nextDelayMillis()).isLessThanOrEqualTo(LodestarClient.DEFAULT_INITIAL_BACKOFF.toMillis());
  }

  @Test
  void refusedWritesBackOffWithFullJitterUpToTheirCapAndStartOverOnSuccess() {
    Backoff b = Backoff.fullJitter(Connection.WRITE_RETRY_INITIAL, Connection.WRITE_RETRY_MAX);
    long max = Connection.WRITE_RETRY_MAX.toMillis();
    Set<Long> atCap = new HashSet<>();
    boolean lowerHalf = false;
    for (int i = 0; i < 1_000; i++) {
      long d = b.nextDelayMillis();
      assertThat(d).isBetween(1L, max);
      if (i > 20) {
        atCap.add(d);
        lowerHalf |= d < max / 2;
      }
    }
    assertThat(lowerHalf).as("full jitter: a delay may be anywhere below its step").isTrue();
    assertThat(atCap).hasSizeGreaterThan(100);
    b.reset();
    assertThat(b.nextDelayMillis()).isLessThanOrEqualTo(Connection.WRITE_RETRY_INITIAL.toMillis());
  }

  @Test
  void aColdServerGetsSecondsToWelcomeWhileTcpStaysShort() {
    assertThat(LodestarClient.DEFAULT_CONNECT_TIMEOUT).isGreaterThanOrEqualTo(Duration.ofSeconds(10));
    assertThat(Connection.TCP_CONNECT_LIMIT).isLessThanOrEqualTo(Duration.ofSeconds(3));
  }
}
