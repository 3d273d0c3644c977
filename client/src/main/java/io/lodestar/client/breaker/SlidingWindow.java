package io.lodestar.client.breaker;

/**
 * Call counts over the last {@code buckets} × {@code bucketNanos}: a ring of time buckets with
 * running totals; moving time forward subtracts the evicted buckets, so a read is O(1).
 *
 * <p>Concurrency: guarded by its own monitor. It is per breaker (never global) and touched on the
 * report path only, never by {@code choose()}; going lock-free waits for a benchmark showing
 * contention (resilience4j makes the same call).
 */
final class SlidingWindow {
  private final long bucketNanos;
  private final int[] calls;
  private final int[] failures;
  private final int[] slow;
  private long lastEpoch = Long.MIN_VALUE;
  private int totalCalls;
  private int totalFailures;
  private int totalSlow;

  SlidingWindow(int buckets, long bucketNanos) {
    this.bucketNanos = bucketNanos;
    calls = new int[buckets];
    failures = new int[buckets];
    slow = new int[buckets];
  }

  /** Records one call and tells whether the window now exceeds the config's thresholds. */
  synchronized boolean recordAndCheck(long nowNanos, boolean failed, boolean isSlow, CircuitBreakerConfig c) {
    int i = advance(nowNanos);
    calls[i]++;
    totalCalls++;
    if (failed) {
      failures[i]++;
      totalFailures++;
    }
    if (isSlow) {
      slow[i]++;
      totalSlow++;
    }
    if (totalCalls < c.minCalls) {
      return false;
    }
    return (double) totalFailures / totalCalls >= c.errorRate
        || (c.slowCallNanos > 0 && (double) totalSlow / totalCalls >= c.slowCallRate);
  }

  private int advance(long nowNanos) {
    long epoch = Math.floorDiv(nowNanos, bucketNanos);
    int n = calls.length;
    if (lastEpoch == Long.MIN_VALUE || epoch - lastEpoch >= n) {
      clearAll(epoch);
    } else {
      for (long e = lastEpoch + 1; e <= epoch; e++) {
        int j = (int) Math.floorMod(e, n);
        totalCalls -= calls[j];
        totalFailures -= failures[j];
        totalSlow -= slow[j];
        calls[j] = failures[j] = slow[j] = 0;
      }
    }
    if (epoch > lastEpoch) {
      lastEpoch = epoch;
    }
    return (int) Math.floorMod(Math.max(epoch, lastEpoch), n);
  }

  private void clearAll(long epoch) {
    java.util.Arrays.fill(calls, 0);
    java.util.Arrays.fill(failures, 0);
    java.util.Arrays.fill(slow, 0);
    totalCalls = totalFailures = totalSlow = 0;
    lastEpoch = epoch;
  }
}
