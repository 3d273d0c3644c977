package io.lodestar.client.internal;

import io.lodestar.api.v1.AdaptiveSettings;
import io.lodestar.api.v1.BreakerSettings;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.client.breaker.CircuitBreakerConfig;
import io.lodestar.client.lb.AdaptiveConfig;
import io.lodestar.client.lb.LbPolicy;
import java.time.Duration;

/**
 * Breaker and adaptive-balancer settings from the rules' wire form. Kept here, not on the config
 * classes, so that their public API names no generated type.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public final class RuleConfigs {
  private RuleConfigs() {}

  /**
   * The policy a rule names. The unspecified value is the default, and so is a value a newer server
   * knows and this SDK does not (UNRECOGNIZED): degrade, do not fail calls.
   */
  public static LbPolicy lbPolicy(LoadBalanceRule.Policy policy) {
    return switch (policy) {
      case POLICY_UNSPECIFIED, UNRECOGNIZED -> LbPolicy.WEIGHTED_RANDOM;
      default -> LbPolicy.valueOf(policy.name());
    };
  }

  /** The wire value of a policy. */
  public static LoadBalanceRule.Policy proto(LbPolicy policy) {
    return LoadBalanceRule.Policy.valueOf(policy.name());
  }

  /** From the wire form; 0 fields mean the default. */
  public static CircuitBreakerConfig breaker(BreakerSettings s, double maxEjectionShare) {
    CircuitBreakerConfig.Builder b = CircuitBreakerConfig.custom();
    if (s.getConsecutiveErrors() > 0) {
      b.consecutiveErrors(s.getConsecutiveErrors());
    }
    if (s.getErrorRate() > 0) {
      b.errorRate(s.getErrorRate());
    }
    if (s.getSlowCallRate() > 0) {
      b.slowCallRate(s.getSlowCallRate());
    }
    b.slowCallDuration(Duration.ofMillis(s.getSlowCallMs()));
    if (s.getWindowMs() > 0) {
      b.window(Duration.ofMillis(s.getWindowMs()));
    }
    if (s.getMinCalls() > 0) {
      b.minCalls(s.getMinCalls());
    }
    if (s.getOpenMs() > 0) {
      b.openDuration(Duration.ofMillis(s.getOpenMs()));
    }
    if (s.getHalfOpenProbes() > 0) {
      b.halfOpenProbes(s.getHalfOpenProbes());
      if (s.getSuccessesToClose() == 0) {
        b.successesToClose(Math.min(CircuitBreakerConfig.DEFAULT_SUCCESSES_TO_CLOSE, s.getHalfOpenProbes()));
      }
    }
    if (s.getSuccessesToClose() > 0) {
      b.successesToClose(s.getSuccessesToClose());
    }
    if (maxEjectionShare > 0) {
      b.maxEjectionShare(maxEjectionShare);
    }
    return b.build();
  }

  /** From the wire form; 0 fields mean the default. Values are trusted (the server validated them). */
  public static AdaptiveConfig adaptive(AdaptiveSettings a) {
    AdaptiveConfig.Builder b = AdaptiveConfig.custom();
    if (a.getUpdateIntervalMs() > 0) {
      b.updateInterval(Duration.ofMillis(a.getUpdateIntervalMs()));
    }
    if (a.getOverloadConsecutiveErrors() > 0) {
      b.overloadConsecutiveErrors(a.getOverloadConsecutiveErrors());
    }
    if (a.getOverloadErrorRate() > 0) {
      b.overloadErrorRate(a.getOverloadErrorRate());
    }
    if (a.getMinCalls() > 0) {
      b.minCalls(a.getMinCalls());
    }
    if (a.getProbeShare() > 0) {
      b.probeShare(a.getProbeShare());
    }
    if (a.getRecoverySuccessRate() > 0) {
      b.recoverySuccessRate(a.getRecoverySuccessRate());
    }
    if (a.getRecoveryConsecutiveSuccesses() > 0) {
      b.recoveryConsecutiveSuccesses(a.getRecoveryConsecutiveSuccesses());
    }
    if (a.getRecoveryStep() > 0) {
      b.recoveryStep(a.getRecoveryStep());
    }
    return b.build();
  }
}
