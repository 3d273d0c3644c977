package io.lodestar.client.ratelimit;

import io.lodestar.client.governance.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket as GCRA (the generic cell rate algorithm): one atomic "theoretical arrival time".
 * A permit is due one emission interval after the previous one; a burst of up to {@code burst}
 * permits may run ahead of schedule. Taking a permit is one CAS, so callers never lock; waiting
 * callers reserve their slot first and then sleep, so waits are fair and bounded.
 *
 * <p>The rate can change at run time (cluster quota shares): the pair (interval, burst) is one
 * immutable object behind a volatile field, swapped whole.
 */
public final class TokenBucket implements RateLimiter {
  private record Shape(long intervalNanos, long toleranceNanos, double rate) {}

  private final Ticker ticker;
  private final Sleeper sleeper;
  private final AtomicLong tat;
  private volatile Shape shape;

  /**
   * @param permitsPerSecond long-run rate; 0 lets nothing through
   * @param burst permits that may pass at once after a quiet spell (at least 1)
   */
  public TokenBucket(double permitsPerSecond, int burst, Ticker ticker, Sleeper sleeper) {
    this.ticker = ticker;
    this.sleeper = sleeper;
    this.shape = shape(permitsPerSecond, burst);
    this.tat = new AtomicLong(ticker.nanos());
  }

  /** Changes the rate and burst; permits already granted stay granted. */
  public void setRate(double permitsPerSecond, int burst) {
    shape = shape(permitsPerSecond, burst);
  }

  private static Shape shape(double rate, int burst) {
    if (Double.isNaN(rate) || rate < 0) {
      throw new IllegalArgumentException("rate must be at least 0, got " + rate);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be at least 1, got " + burst);
    }
    if (rate == 0) {
      return new Shape(Long.MAX_VALUE, 0, 0);
    }
    long interval = Math.max(1, Math.round(1e9 / rate));
    return new Shape(interval, interval * (burst - 1), rate);
  }

  @Override
  public double rate() {
    return shape.rate;
  }

  @Override
  public boolean tryAcquire() {
    return reserve(0) == 0;
  }

  @Override
  public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
    long wait = reserve(unit.toNanos(timeout));
    if (wait < 0) {
      return false;
    }
    if (wait > 0) {
      sleeper.sleepNanos(wait);
    }
    return true;
  }

  /** Reserves a permit due within maxWait; returns the wait (0 = now) or -1 when refused. */
  private long reserve(long maxWaitNanos) {
    Shape s = shape;
    if (s.intervalNanos == Long.MAX_VALUE) {
      return -1;
    }
    while (true) {
      long now = ticker.nanos();
      long current = tat.get();
      long base = Math.max(current, now);
      // The permit is due at base - tolerance: the burst lets callers run that far ahead.
      long due = base - s.toleranceNanos - now;
      if (due > maxWaitNanos) {
        return -1;
      }
      if (tat.compareAndSet(current, base + s.intervalNanos)) {
        return Math.max(0, due);
      }
    }
  }
}
