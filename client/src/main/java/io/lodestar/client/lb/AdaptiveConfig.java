package io.lodestar.client.lb;

import java.time.Duration;

/**
 * Settings of the adaptive balancer. Immutable; built by {@link #custom()}, whose setters reject a
 * bad value at once, naming the field. Defaults follow L5 (see docs/api.md): an update every
 * second, overload at 30 consecutive errors or a 10 % error rate, recovery at a 95 % success rate
 * or 30 consecutive successes.
 */
public final class AdaptiveConfig {
  public static final Duration DEFAULT_UPDATE_INTERVAL = Duration.ofSeconds(1);
  public static final int DEFAULT_OVERLOAD_CONSECUTIVE_ERRORS = 30;
  public static final double DEFAULT_OVERLOAD_ERROR_RATE = 0.1;
  public static final int DEFAULT_MIN_CALLS = 10;
  public static final double DEFAULT_PROBE_SHARE = 0.1;
  public static final double DEFAULT_RECOVERY_SUCCESS_RATE = 0.95;
  public static final int DEFAULT_RECOVERY_CONSECUTIVE_SUCCESSES = 30;
  public static final double DEFAULT_RECOVERY_STEP = 0.2;
  public static final double DEFAULT_MIN_FACTOR = 0.05;

  private static final AdaptiveConfig DEFAULTS = custom().build();

  final long updateIntervalNanos;
  final int overloadConsecutiveErrors;
  final double overloadErrorRate;
  final int minCalls;
  final double probeShare;
  final double recoverySuccessRate;
  final int recoveryConsecutiveSuccesses;
  final double recoveryStep;
  final double minFactor;

  private AdaptiveConfig(Builder b) {
    updateIntervalNanos = b.updateInterval.toNanos();
    overloadConsecutiveErrors = b.overloadConsecutiveErrors;
    overloadErrorRate = b.overloadErrorRate;
    minCalls = b.minCalls;
    probeShare = b.probeShare;
    recoverySuccessRate = b.recoverySuccessRate;
    recoveryConsecutiveSuccesses = b.recoveryConsecutiveSuccesses;
    recoveryStep = b.recoveryStep;
    minFactor = b.minFactor;
  }

  public static AdaptiveConfig ofDefaults() {
    return DEFAULTS;
  }

  public static Builder custom() {
    return new Builder();
  }


  public Duration updateInterval() {
    return Duration.ofNanos(updateIntervalNanos);
  }

  public static final class Builder {
    private Duration updateInterval = DEFAULT_UPDATE_INTERVAL;
    private int overloadConsecutiveErrors = DEFAULT_OVERLOAD_CONSECUTIVE_ERRORS;
    private double overloadErrorRate = DEFAULT_OVERLOAD_ERROR_RATE;
    private int minCalls = DEFAULT_MIN_CALLS;
    private double probeShare = DEFAULT_PROBE_SHARE;
    private double recoverySuccessRate = DEFAULT_RECOVERY_SUCCESS_RATE;
    private int recoveryConsecutiveSuccesses = DEFAULT_RECOVERY_CONSECUTIVE_SUCCESSES;
    private double recoveryStep = DEFAULT_RECOVERY_STEP;
    private double minFactor = DEFAULT_MIN_FACTOR;

    private Builder() {}

    public Builder updateInterval(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("updateInterval must be positive");
      }
      updateInterval = d;
      return this;
    }

    public Builder overloadConsecutiveErrors(int n) {
      overloadConsecutiveErrors = Checks.atLeast("overloadConsecutiveErrors", n, 1);
      return this;
    }

    public Builder overloadErrorRate(double r) {
      overloadErrorRate = Checks.share("overloadErrorRate", r, false);
      return this;
    }

    public Builder minCalls(int n) {
      minCalls = Checks.atLeast("minCalls", n, 1);
      return this;
    }

    /** Share of its normal weight an overloaded endpoint keeps, for probes. */
    public Builder probeShare(double s) {
      probeShare = Checks.share("probeShare", s, false);
      return this;
    }

    public Builder recoverySuccessRate(double r) {
      recoverySuccessRate = Checks.share("recoverySuccessRate", r, false);
      return this;
    }

    public Builder recoveryConsecutiveSuccesses(int n) {
      recoveryConsecutiveSuccesses = Checks.atLeast("recoveryConsecutiveSuccesses", n, 1);
      return this;
    }

    /** How much of its full share a recovering endpoint regains per update; below 1 by design. */
    public Builder recoveryStep(double s) {
      if (Double.isNaN(s) || s <= 0 || s >= 1) {
        throw new IllegalArgumentException("recoveryStep must be within (0, 1), got " + s);
      }
      recoveryStep = s;
      return this;
    }

    /** Smallest factor latency or errors can push a non-overloaded endpoint to. */
    public Builder minFactor(double f) {
      minFactor = Checks.share("minFactor", f, false);
      return this;
    }

    public AdaptiveConfig build() {
      return new AdaptiveConfig(this);
    }
  }
}
