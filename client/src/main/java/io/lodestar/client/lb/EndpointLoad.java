package io.lodestar.client.lb;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live counters of one endpoint, fed by {@code report()} and read by the least-request picker and
 * the adaptive balancer. It outlives pickers: a new picker for the same instance id reuses it, so
 * statistics survive membership changes.
 *
 * <p>Concurrency: callers on any thread bump atomics; the period counters are drained by the one
 * thread that wins the adaptive update. {@link #factor} is written by that thread only.
 */
public final class EndpointLoad {
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicLong periodSuccesses = new AtomicLong();
  final AtomicLong periodFailures = new AtomicLong();
  final AtomicLong periodLatencyNanos = new AtomicLong();
  final AtomicInteger consecutiveFailures = new AtomicInteger();
  final AtomicInteger consecutiveSuccesses = new AtomicInteger();

  // Adaptive state: the updater thread only (published to pickers through a rebuild).
  volatile double factor = 1.0;
  AdaptiveState state = AdaptiveState.NORMAL;
  double latencyEwmaNanos = Double.NaN;

  enum AdaptiveState { NORMAL, OVERLOADED, RECOVERING }

  /** A call to this endpoint started. */
  public void onStart() {
    inFlight.incrementAndGet();
  }

  /** A call to this endpoint ended. */
  public void onFinish(boolean success, long latencyNanos) {
    inFlight.decrementAndGet();
    if (success) {
      periodSuccesses.incrementAndGet();
      consecutiveSuccesses.incrementAndGet();
      // Only write when needed: an unconditional write would bounce the cache line on every call.
      if (consecutiveFailures.get() != 0) {
        consecutiveFailures.set(0);
      }
    } else {
      periodFailures.incrementAndGet();
      consecutiveFailures.incrementAndGet();
      if (consecutiveSuccesses.get() != 0) {
        consecutiveSuccesses.set(0);
      }
    }
    periodLatencyNanos.addAndGet(Math.max(0, latencyNanos));
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** Adaptive multiplier of the static weight, in (0, 1]; 1 for non-adaptive policies. */
  public double factor() {
    return factor;
  }

  /** True while the adaptive balancer holds this endpoint as overloaded (probed only). */
  public boolean overloaded() {
    return state == AdaptiveState.OVERLOADED;
  }
}
