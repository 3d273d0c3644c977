package io.lodestar.client.ratelimit;

import java.util.concurrent.TimeUnit;

/** A local limiter. Thread-safe; never takes a lock; waits only when asked to. */
public interface RateLimiter {
  /** Takes one permit if one is free now. */
  boolean tryAcquire();

  /**
   * Takes one permit, waiting for it up to {@code timeout}. Returns false at once (without
   * waiting) when the permit could not be had within the timeout.
   */
  boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException;

  /** Permits per second this limiter lets through in the long run. */
  double rate();

  /** A limiter that lets everything through: a disabled rule is this object, not an if. */
  RateLimiter UNLIMITED = new RateLimiter() {
    @Override
    public boolean tryAcquire() {
      return true;
    }

    @Override
    public boolean tryAcquire(long timeout, TimeUnit unit) {
      return true;
    }

    @Override
    public double rate() {
      return Double.POSITIVE_INFINITY;
    }
  };
}
