package io.lodestar.client.breaker;

import java.time.Duration;

/**
 * Settings of a circuit breaker. Immutable; built by {@link #custom()} or {@link #from}, whose
 * setters reject a bad value at once, naming the field.
 *
 * <p>Defaults guard against hard failures only (an instance that is down or refuses every call):
 * 20 consecutive errors, or a 95 % error rate over a 30 s window with at least 20 calls; open for
 * 30 s; then 10 probes, 8 of which must succeed to close. An instance that fails some of its calls
 * is the adaptive balancer's to handle: it keeps the instance in rotation at a lower share and
 * keeps probing it, so the instance can be seen to recover. A breaker that opened at a 50 % error
 * rate would take such an instance out entirely and starve the balancer of those probes
 * (docs/api.md, "Breakers and the adaptive balancer").
 */
public final class CircuitBreakerConfig {
  public static final int DEFAULT_CONSECUTIVE_ERRORS = 20;
  public static final double DEFAULT_ERROR_RATE = 0.95;
  public static final double DEFAULT_SLOW_CALL_RATE = 1.0;
  public static final Duration DEFAULT_SLOW_CALL_DURATION = Duration.ZERO;
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(30);
  public static final int DEFAULT_WINDOW_BUCKETS = 10;
  public static final int DEFAULT_MIN_CALLS = 20;
  public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(30);
  public static final int DEFAULT_HALF_OPEN_PROBES = 10;
  public static final int DEFAULT_SUCCESSES_TO_CLOSE = 8;
  public static final double DEFAULT_MAX_EJECTION_SHARE = 0.5;

  private static final CircuitBreakerConfig DEFAULTS = custom().build();

  final int consecutiveErrors;
  final double errorRate;
  final double slowCallRate;
  final long slowCallNanos;
  final long windowNanos;
  final int windowBuckets;
  final int minCalls;
  final long openNanos;
  final int halfOpenProbes;
  final int successesToClose;
  final double maxEjectionShare;

  private CircuitBreakerConfig(Builder b) {
    consecutiveErrors = b.consecutiveErrors;
    errorRate = b.errorRate;
    slowCallRate = b.slowCallRate;
    slowCallNanos = b.slowCallDuration.toNanos();
    windowNanos = b.window.toNanos();
    windowBuckets = b.windowBuckets;
    minCalls = b.minCalls;
    openNanos = b.openDuration.toNanos();
    halfOpenProbes = b.halfOpenProbes;
    successesToClose = b.successesToClose;
    maxEjectionShare = b.maxEjectionShare;
  }

  public static CircuitBreakerConfig ofDefaults() {
    return DEFAULTS;
  }

  public static Builder custom() {
    return new Builder();
  }

  public static Builder from(CircuitBreakerConfig c) {
    Builder b = new Builder();
    b.consecutiveErrors = c.consecutiveErrors;
    b.errorRate = c.errorRate;
    b.slowCallRate = c.slowCallRate;
    b.slowCallDuration = Duration.ofNanos(c.slowCallNanos);
    b.window = Duration.ofNanos(c.windowNanos);
    b.windowBuckets = c.windowBuckets;
    b.minCalls = c.minCalls;
    b.openDuration = Duration.ofNanos(c.openNanos);
    b.halfOpenProbes = c.halfOpenProbes;
    b.successesToClose = c.successesToClose;
    b.maxEjectionShare = c.maxEjectionShare;
    return b;
  }


  /** Most instances breakers may take out of rotation, as a share (Envoy's max ejection). */
  public double maxEjectionShare() {
    return maxEjectionShare;
  }

  public Duration openDuration() {
    return Duration.ofNanos(openNanos);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CircuitBreakerConfig c && c.consecutiveErrors == consecutiveErrors && c.errorRate == errorRate
        && c.slowCallRate == slowCallRate && c.slowCallNanos == slowCallNanos && c.windowNanos == windowNanos
        && c.windowBuckets == windowBuckets && c.minCalls == minCalls && c.openNanos == openNanos
        && c.halfOpenProbes == halfOpenProbes && c.successesToClose == successesToClose
        && c.maxEjectionShare == maxEjectionShare;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(consecutiveErrors, errorRate, slowCallNanos, windowNanos, minCalls, openNanos);
  }

  public static final class Builder {
    private int consecutiveErrors = DEFAULT_CONSECUTIVE_ERRORS;
    private double errorRate = DEFAULT_ERROR_RATE;
    private double slowCallRate = DEFAULT_SLOW_CALL_RATE;
    private Duration slowCallDuration = DEFAULT_SLOW_CALL_DURATION;
    private Duration window = DEFAULT_WINDOW;
    private int windowBuckets = DEFAULT_WINDOW_BUCKETS;
    private int minCalls = DEFAULT_MIN_CALLS;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private int halfOpenProbes = DEFAULT_HALF_OPEN_PROBES;
    private int successesToClose = DEFAULT_SUCCESSES_TO_CLOSE;
    private double maxEjectionShare = DEFAULT_MAX_EJECTION_SHARE;

    private Builder() {}

    /** Errors in a row that open the breaker; 0 disables the rule. */
    public Builder consecutiveErrors(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("consecutiveErrors must be at least 0, got " + n);
      }
      consecutiveErrors = n;
      return this;
    }

    /** Error rate over the window that opens the breaker; 1.0 opens only when every call fails. */
    public Builder errorRate(double r) {
      errorRate = share("errorRate", r);
      return this;
    }

    /** Slow-call rate over the window that opens the breaker (with a slowCallDuration set). */
    public Builder slowCallRate(double r) {
      slowCallRate = share("slowCallRate", r);
      return this;
    }

    /** Calls at least this long count as slow; zero disables the slow-call rule. */
    public Builder slowCallDuration(Duration d) {
      slowCallDuration = nonNegative("slowCallDuration", d);
      return this;
    }

    public Builder window(Duration d) {
      window = positive("window", d);
      return this;
    }

    public Builder windowBuckets(int n) {
      if (n < 1 || n > 1000) {
        throw new IllegalArgumentException("windowBuckets must be within 1–1000, got " + n);
      }
      windowBuckets = n;
      return this;
    }

    /** Calls the window must hold before a rate can open the breaker. */
    public Builder minCalls(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("minCalls must be at least 1, got " + n);
      }
      minCalls = n;
      return this;
    }

    public Builder openDuration(Duration d) {
      openDuration = positive("openDuration", d);
      return this;
    }

    public Builder halfOpenProbes(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("halfOpenProbes must be at least 1, got " + n);
      }
      halfOpenProbes = n;
      return this;
    }

    public Builder successesToClose(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("successesToClose must be at least 1, got " + n);
      }
      successesToClose = n;
      return this;
    }

    public Builder maxEjectionShare(double s) {
      maxEjectionShare = share("maxEjectionShare", s);
      return this;
    }

    public CircuitBreakerConfig build() {
      if (successesToClose > halfOpenProbes) {
        throw new IllegalArgumentException("successesToClose (" + successesToClose
            + ") must not exceed halfOpenProbes (" + halfOpenProbes + ")");
      }
      if (window.toNanos() / windowBuckets < 1_000_000) {
        throw new IllegalArgumentException("window / windowBuckets must be at least 1 ms");
      }
      return new CircuitBreakerConfig(this);
    }

    private static double share(String field, double v) {
      if (Double.isNaN(v) || v <= 0 || v > 1) {
        throw new IllegalArgumentException(field + " must be within (0, 1], got " + v);
      }
      return v;
    }

    private static Duration positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + " must be positive");
      }
      return d;
    }

    private static Duration nonNegative(String field, Duration d) {
      if (d == null || d.isNegative()) {
        throw new IllegalArgumentException(field + " must not be negative");
      }
      return d;
    }
  }
}
