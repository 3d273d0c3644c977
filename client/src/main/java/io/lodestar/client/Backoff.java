package io.lodestar.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: initial, doubling up to max; each delay is drawn from the upper
 * half of its step ({@code [base × (1 − JITTER), base]}), so it never exceeds max — a client
 * reconnects within max of a server coming back, however long the outage — and a fleet of
 * clients spreads over half of max instead of arriving in lockstep. Control thread only.
 */
final class Backoff {
  static final double JITTER = 0.5;
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
    double factor = 1 - JITTER * ThreadLocalRandom.current().nextDouble();
    return Math.max(1, Math.round(base * factor));
  }

  void reset() {
    nextMillis = initialMillis;
  }
}
