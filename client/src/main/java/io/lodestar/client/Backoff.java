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
  private final double jitter;
  private long nextMillis;

  Backoff(Duration initial, Duration max) {
    this(initial, max, JITTER);
  }

  private Backoff(Duration initial, Duration max, double jitter) {
    this.initialMillis = initial.toMillis();
    this.maxMillis = max.toMillis();
    this.jitter = jitter;
    this.nextMillis = initialMillis;
  }

  /**
   * Full jitter: each delay drawn from {@code [0, base]}, for retrying refused writes. Clients
   * that an overloaded server refused at the same moment then come back spread over the whole
   * step, not in a wave at its end, so the server drains what it holds between them.
   */
  static Backoff fullJitter(Duration initial, Duration max) {
    return new Backoff(initial, max, 1.0);
  }

  /** The delay before the next attempt; grows the one after. */
  long nextDelayMillis() {
    long base = nextMillis;
    nextMillis = Math.min(maxMillis, (long) (nextMillis * MULTIPLIER));
    double factor = 1 - jitter * ThreadLocalRandom.current().nextDouble();
    return Math.max(1, Math.round(base * factor));
  }

  void reset() {
    nextMillis = initialMillis;
  }
}
