package io.lodestar.client.lb;

import io.lodestar.client.lb.EndpointLoad.AdaptiveState;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The adaptive balancer's brain, in the spirit of L5: once per update interval it drains each
 * endpoint's period counters and sets the endpoint's factor (the multiplier of its static weight
 * that the weighted-random picker uses).
 *
 * <ul>
 *   <li>Normal: the factor drifts (halfway per update) toward success rate × latency score, where
 *       the latency score is the fastest endpoint's mean latency over this one's, floored at
 *       {@code minFactor}.
 *   <li>Overloaded (N consecutive errors, or an error rate over the threshold with enough calls):
 *       the factor drops to {@code probeShare}; the endpoint keeps receiving the odd probe.
 *   <li>Recovering (probes succeed): the factor climbs by {@code recoveryStep} per update until it
 *       reaches its normal target, so recovery is never one step. Recovery is monotonic: the mean
 *       latency starts afresh when recovery starts (the slow period no longer counts against the
 *       healed endpoint), and reaching normal never lowers the factor it had climbed to.
 * </ul>
 *
 * <p>Concurrency: {@link #maybeUpdate} is called from the report path; the first caller past the
 * deadline that wins a CAS does the work, everyone else returns at once (Caffeine's tryLock
 * drain), so reporting never waits. Time comes from the caller.
 */
public final class AdaptiveUpdater {
  private final AdaptiveConfig config;
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong nextUpdate;

  public AdaptiveUpdater(AdaptiveConfig config, long nowNanos) {
    this.config = config;
    this.nextUpdate = new AtomicLong(nowNanos + config.updateIntervalNanos);
  }

  /** Cheap check: is an update due? One volatile read. */
  public boolean due(long nowNanos) {
    return nowNanos - nextUpdate.get() >= 0;
  }

  /**
   * Runs an update if one is due and no one else is running it.
   *
   * @return true if some factor changed (the caller rebuilds its pickers)
   */
  public boolean maybeUpdate(long nowNanos, List<? extends Endpoint> endpoints) {
    if (!due(nowNanos) || !running.compareAndSet(false, true)) {
      return false;
    }
    try {
      nextUpdate.set(nowNanos + config.updateIntervalNanos);
      return update(endpoints);
    } finally {
      running.set(false);
    }
  }

  private boolean update(List<? extends Endpoint> endpoints) {
    int n = endpoints.size();
    long[] successes = new long[n];
    long[] failures = new long[n];
    double fastest = Double.NaN;
    for (int i = 0; i < n; i++) {
      EndpointLoad l = endpoints.get(i).load();
      successes[i] = l.periodSuccesses.getAndSet(0);
      failures[i] = l.periodFailures.getAndSet(0);
      long latency = l.periodLatencyNanos.getAndSet(0);
      long calls = successes[i] + failures[i];
      if (calls > 0) {
        double mean = (double) latency / calls;
        l.latencyEwmaNanos = Double.isNaN(l.latencyEwmaNanos) ? mean : 0.5 * l.latencyEwmaNanos + 0.5 * mean;
      }
      if (l.state == AdaptiveState.NORMAL && !Double.isNaN(l.latencyEwmaNanos)
          && (Double.isNaN(fastest) || l.latencyEwmaNanos < fastest)) {
        fastest = l.latencyEwmaNanos;
      }
    }
    boolean changed = false;
    for (int i = 0; i < n; i++) {
      EndpointLoad l = endpoints.get(i).load();
      double before = l.factor;
      step(l, successes[i], failures[i], fastest);
      changed |= Math.abs(l.factor - before) > 1e-9;
    }
    return changed;
  }

  private void step(EndpointLoad l, long ok, long failed, double fastest) {
    long calls = ok + failed;
    double successRate = calls == 0 ? 1.0 : (double) ok / calls;
    boolean overloadSignal = l.consecutiveFailures.get() >= config.overloadConsecutiveErrors
        || (calls >= config.minCalls && 1.0 - successRate >= config.overloadErrorRate);
    double target = Math.max(config.minFactor, successRate * latencyScore(l, fastest));
    switch (l.state) {
      case NORMAL -> {
        if (overloadSignal) {
          l.state = AdaptiveState.OVERLOADED;
          l.factor = config.probeShare;
        } else {
          l.factor = Math.max(config.minFactor, l.factor + 0.5 * (target - l.factor));
        }
      }
      case OVERLOADED -> {
        boolean probesGood = calls > 0 && (successRate >= config.recoverySuccessRate
            || l.consecutiveSuccesses.get() >= config.recoveryConsecutiveSuccesses);
        if (probesGood && !overloadSignal) {
          l.state = AdaptiveState.RECOVERING;
          l.factor = Math.min(1.0, config.probeShare + config.recoveryStep);
          l.latencyEwmaNanos = Double.NaN;  // judged from now on, not by the period it is recovering from
        }
      }
      case RECOVERING -> {
        if (overloadSignal) {
          l.state = AdaptiveState.OVERLOADED;
          l.factor = config.probeShare;
        } else if (l.factor + config.recoveryStep >= target) {
          l.state = AdaptiveState.NORMAL;
          // never below what recovery reached: a healed endpoint's share does not fall back
          l.factor = Math.max(l.factor, Math.min(target, l.factor + config.recoveryStep));
        } else {
          l.factor += config.recoveryStep;
        }
      }
    }
  }

  private double latencyScore(EndpointLoad l, double fastest) {
    if (Double.isNaN(fastest) || Double.isNaN(l.latencyEwmaNanos) || l.latencyEwmaNanos <= 0) {
      return 1.0;
    }
    return Math.min(1.0, Math.max(config.minFactor, fastest / l.latencyEwmaNanos));
  }
}
