package io.lodestar.client.ratelimit;

import io.lodestar.client.governance.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This SDK's part of a cluster-wide limit: a token bucket whose rate is the share the quota server
 * granted. Without a grant (server unreachable, or none yet) it enforces the fallback: the global
 * limit divided by the number of SDKs last known to share it; in fail-closed mode, it refuses
 * everything until it has learnt that number. It also counts the permits it granted, which the SDK
 * reports so that the server can rebalance shares.
 */
public final class ClusterLimiter implements RateLimiter {
  private final String name;
  private final double globalRate;
  private final boolean failClosed;
  private final TokenBucket bucket;
  private final AtomicLong used = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private volatile boolean known;
  private volatile int lastSharers;
  private final AtomicLong grants = new AtomicLong();

  public ClusterLimiter(String name, double globalRatePerSecond, int burst, boolean failClosed, Ticker ticker,
      Sleeper sleeper) {
    this.name = name;
    this.globalRate = globalRatePerSecond;
    this.failClosed = failClosed;
    this.bucket = new TokenBucket(globalRatePerSecond, Math.max(1, burst), ticker, sleeper);
  }

  public String name() {
    return name;
  }

  public double globalRate() {
    return globalRate;
  }

  /** The server granted this SDK {@code permitsPerSecond}, shared now by {@code sharers} SDKs. */
  public void grant(double permitsPerSecond, int sharers) {
    bucket.setRate(Math.max(0, permitsPerSecond), burstFor(permitsPerSecond));
    lastSharers = sharers;
    known = true;
    grants.incrementAndGet();
  }

  /** How many grants the server has sent so far. */
  public long grants() {
    return grants.get();
  }

  /** Grants have stopped coming: enforce global ÷ the sharers last known (nothing if never known). */
  public void fallBackToLastKnown() {
    int n = lastSharers;
    if (n > 0) {
      fallBack(n);
    }
  }

  /** No grant can be had: enforce global ÷ sharers (sharers ≥ 1). */
  public void fallBack(int sharers) {
    double rate = globalRate / Math.max(1, sharers);
    bucket.setRate(rate, burstFor(rate));
    known = true;
  }

  /** Permits granted since the last call: the usage the SDK reports. */
  public long drainUsage() {
    return used.getAndSet(0);
  }

  /** Permits refused since the last call: the unmet demand the SDK reports. */
  public long drainRefused() {
    return refused.getAndSet(0);
  }

  private static int burstFor(double rate) {
    // a tenth of a second of traffic at once: enough to absorb jitter, too little to overshoot
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(rate / 10)));
  }

  @Override
  public boolean tryAcquire() {
    boolean ok = (!failClosed || known) && bucket.tryAcquire();
    (ok ? used : refused).incrementAndGet();
    return ok;
  }

  @Override
  public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
    boolean ok = (!failClosed || known) && bucket.tryAcquire(timeout, unit);
    (ok ? used : refused).incrementAndGet();
    return ok;
  }

  @Override
  public double rate() {
    return bucket.rate();
  }
}
