package io.lodestar.client.governance;

import io.lodestar.client.ratelimit.Sleeper;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker tests move by hand; its sleeper advances it instead of sleeping. */
public final class FakeTicker implements Ticker {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @Override
  public long nanos() {
    return now.get();
  }

  public void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  public void advanceNanos(long n) {
    now.addAndGet(n);
  }

  public Sleeper sleeper() {
    return this::advanceNanos;
  }
}
