package io.lodestar.client.governance;

import io.lodestar.api.v1.CircuitBreakerRule;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.client.breaker.CircuitBreaker;
import io.lodestar.client.breaker.CircuitBreakerConfig;
import io.lodestar.client.lb.AdaptiveConfig;
import io.lodestar.client.lb.LbPolicy;
import io.lodestar.client.internal.ratelimit.RateLimitTable;
import io.lodestar.client.ratelimit.Sleeper;
import io.lodestar.client.internal.route.RouteTable;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The effective rules of one service, compiled for one caller: what a plan is built from. Built on
 * the control thread when rules arrive; immutable afterwards (breakers and limiters inside are
 * thread-safe objects that carry their own state).
 */
record CompiledRules(GovernanceRules source, LbPolicy policy, String hashHeader, String hashLabel,
    AdaptiveConfig adaptive, RouteTable route, CircuitBreakerConfig instanceBreaker, CircuitBreaker serviceBreaker,
    Map<String, CircuitBreaker> methodBreakers, double maxEjectionShare, RateLimitTable rateLimits, Lanes lanes) {

  private static CircuitBreakerRule unversioned(CircuitBreakerRule r) {
    return r.toBuilder().clearVersion().clearUpdatedAtMs().build();
  }

  static CompiledRules compile(String service, GovernanceRules rules, Map<String, String> caller,
      CompiledRules previous, Ticker ticker, Sleeper sleeper, CircuitBreaker.Listener listener) {
    LoadBalanceRule lb = rules.getLoadbalance();
    LbPolicy policy = io.lodestar.client.internal.RuleConfigs.lbPolicy(lb.getPolicy());
    CircuitBreakerRule cb = rules.getCircuitbreaker();
    CircuitBreakerConfig instanceCfg = cb.getDisabled() ? null
        : io.lodestar.client.internal.RuleConfigs.breaker(cb.getInstance(), cb.getMaxEjectionShare());
    // a re-put of the same settings (new version only) keeps the breakers and their state
    boolean sameBreakers = previous != null && unversioned(previous.source.getCircuitbreaker()).equals(unversioned(cb));
    CircuitBreaker serviceBreaker = sameBreakers ? previous.serviceBreaker
        : cb.hasService() ? new CircuitBreaker(service, io.lodestar.client.internal.RuleConfigs.breaker(cb.getService(), 0), ticker,
            listener) : null;
    Map<String, CircuitBreaker> methods;
    if (sameBreakers) {
      methods = previous.methodBreakers;
    } else {
      methods = new HashMap<>();
      cb.getMethodsMap().forEach((m, s) -> methods.put(m, new CircuitBreaker(service + "#" + m,
          io.lodestar.client.internal.RuleConfigs.breaker(s, 0), ticker, listener)));
    }
    RateLimitTable limits = RateLimitTable.compile(rules.getRatelimit(), caller,
        previous == null ? null : previous.rateLimits, ticker, sleeper);
    return new CompiledRules(rules, policy, lb.getHashHeader().toLowerCase(Locale.ROOT), lb.getHashLabel(),
        io.lodestar.client.internal.RuleConfigs.adaptive(lb.getAdaptive()), RouteTable.compile(rules.getRoute(), caller), instanceCfg,
        serviceBreaker, Map.copyOf(methods),
        cb.getMaxEjectionShare() > 0 ? cb.getMaxEjectionShare() : CircuitBreakerConfig.DEFAULT_MAX_EJECTION_SHARE,
        limits, Lanes.compile(rules.getLane(), caller));
  }
}
