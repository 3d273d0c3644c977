package io.lodestar.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: initial, doubling up to max, each delay spread by ±{@value
 * #JITTER} so that a fleet of clients does not reconnect in lockstep. Control thread only.
 */
final class Backoff {
  static final double JITTER = 0.2;
  static final double MULTIPLIER = 2.0;

  private final long initialMillis;
  private final long maxMillis;
  private long nextMillis;

  Backoff(Duration initial, Duration max) {
    this.initialMillis = initial.toMillis();
    this.maxMillis = max.toMillis();
    this.nextMillis = initialMillis;
  }

  /** The delay before the next attempt; grows the one after. */
  long nextDelayMillis() {
    long base = nextMillis;
    nextMillis = Math.min(maxMillis, (long) (nextMillis * MULTIPLIER));
    double factor = 1 + JITTER * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Math.max(1, Math.round(base * factor));
  }

  void reset() {
    nextMillis = initialMillis;
  }
}
