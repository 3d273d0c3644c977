package io.lodestar.client.ratelimit;

import io.lodestar.client.governance.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * At most {@code limit} permits per {@code window}, counted over a sliding window approximated from
 * two fixed windows: the previous window's count weighted by how much of it still overlaps, plus
 * the current count (Cloudflare's scheme; exact for evenly spread traffic, never lets more than
 * the limit through a fixed window).
 *
 * <p>Concurrency: the current window is an immutable epoch plus an atomic counter; a permit is a
 * CAS on that counter; the first caller of a new window installs the next one by CAS. Nothing
 * locks; one small object is allocated per window, none per call.
 */
public final class SlidingWindowLimiter implements RateLimiter {
  private static final class Window {
    final long epoch;
    final long previous;
    final AtomicLong count = new AtomicLong();

    Window(long epoch, long previous) {
      this.epoch = epoch;
      this.previous = previous;
    }
  }

  private final long limit;
  private final long windowNanos;
  private final Ticker ticker;
  private final Sleeper sleeper;
  private final AtomicReference<Window> current;

  public SlidingWindowLimiter(long limit, long windowNanos, Ticker ticker, Sleeper sleeper) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be at least 0, got " + limit);
    }
    if (windowNanos < 1_000_000) {
      throw new IllegalArgumentException("window must be at least 1 ms");
    }
    this.limit = limit;
    this.windowNanos = windowNanos;
    this.ticker = ticker;
    this.sleeper = sleeper;
    this.current = new AtomicReference<>(new Window(Math.floorDiv(ticker.nanos(), windowNanos), 0));
  }

  @Override
  public double rate() {
    return limit * 1e9 / windowNanos;
  }

  @Override
  public boolean tryAcquire() {
    return attempt(ticker.nanos()) == 0;
  }

  @Override
  public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = ticker.nanos() + unit.toNanos(timeout);
    while (true) {
      long now = ticker.nanos();
      long wait = attempt(now);
      if (wait == 0) {
        return true;
      }
      if (now + wait - deadline > 0) {
        return false;
      }
      sleeper.sleepNanos(wait);
    }
  }

  /** Takes a permit (0) or says how long until one may be free (> 0). */
  private long attempt(long now) {
    Window w = window(now);
    long offset = Math.max(0, now - w.epoch * windowNanos);
    double overlap = 1.0 - (double) offset / windowNanos;
    while (true) {
      long c = w.count.get();
      double estimate = w.previous * overlap + c;
      if (estimate + 1 > limit) {
        return retryAfter(w, c, offset);
      }
      if (w.count.compareAndSet(c, c + 1)) {
        return 0;
      }
    }
  }

  private long retryAfter(Window w, long count, long offset) {
    if (count + 1 > limit || w.previous == 0) {
      return Math.max(1, windowNanos - offset);  // only the next window helps
    }
    // previous * (1 - t/W) + count + 1 <= limit  =>  t >= W * (1 - (limit - count - 1) / previous)
    double t = windowNanos * (1.0 - (double) (limit - count - 1) / w.previous);
    return Math.max(1, (long) Math.ceil(t) - offset);
  }

  private Window window(long now) {
    long epoch = Math.floorDiv(now, windowNanos);
    while (true) {
      Window w = current.get();
      if (w.epoch >= epoch) {
        return w;
      }
      long previous = w.epoch == epoch - 1 ? w.count.get() : 0;
      Window next = new Window(epoch, previous);
      if (current.compareAndSet(w, next)) {
        return next;
      }
    }
  }
}
