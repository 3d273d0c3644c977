package io.lodestar.core.governance;

import io.lodestar.api.v1.AdaptiveSettings;
import io.lodestar.api.v1.BreakerSettings;
import io.lodestar.api.v1.CircuitBreakerRule;
import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.Match;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.api.v1.Nearby;
import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import com.google.protobuf.Descriptors.EnumDescriptor;
import io.lodestar.api.WireEnums;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Static checks of governance rules, run before a rule is logged. Each failure names the field by
 * its JSON path within the rule that was put, e.g. {@code rules[0].match.headers.x-user.regex}.
 * Limits keep one rule small enough for every SDK to compile on each push.
 */
public final class RuleValidator {
  public static final int MAX_RULES = 100;
  public static final int MAX_DESTINATIONS = 32;
  public static final int MAX_CONDITIONS = 32;
  public static final int MAX_VALUES = 256;
  public static final int MAX_KEY = 128;
  public static final int MAX_VALUE = 1024;
  public static final int MAX_MS = 86_400_000;

  private RuleValidator() {}

  public static void validate(RuleKind kind, GovernanceRules r) {
    switch (kind) {
      case LOADBALANCE -> loadBalance(r.getLoadbalance());
      case ROUTE -> route(r.getRoute());
      case CIRCUITBREAKER -> circuitBreaker(r.getCircuitbreaker());
      case RATELIMIT -> rateLimit(r.getRatelimit());
      case LANE -> lanes(r.getLane());
    }
  }

  // ------------------------------------------------------------------ lanes

  public static final int MAX_LANES = 32;

  static void lanes(io.lodestar.api.v1.LaneRules r) {
    count("lanes", r.getLanesCount(), MAX_LANES);
    java.util.Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < r.getLanesCount(); i++) {
      String p = "lanes[" + i + "]";
      io.lodestar.api.v1.LaneRule lane = r.getLanes(i);
      if (lane.getName().isEmpty()) {
        throw LodestarException.invalid(p + ".name", p + ".name is required");
      }
      Validation.name(p + ".name", lane.getName());
      if (!names.add(lane.getName())) {
        throw LodestarException.invalid(p + ".name", "lane " + lane.getName() + " is defined twice");
      }
      if (lane.hasMatch()) {
        match(p + ".match", lane.getMatch());
      }
      known(p + ".fallback", lane.getFallbackValue(), io.lodestar.api.v1.LaneRule.Fallback.getDescriptor());
    }
  }

  // ------------------------------------------------------------------ load balancing

  static void loadBalance(LoadBalanceRule lb) {
    known("policy", lb.getPolicyValue(), LoadBalanceRule.Policy.getDescriptor());
    boolean hashing = lb.getPolicy() == LoadBalanceRule.Policy.RING_HASH
        || lb.getPolicy() == LoadBalanceRule.Policy.MAGLEV;
    if (!lb.getHashHeader().isEmpty() && !lb.getHashLabel().isEmpty()) {
      throw LodestarException.invalid("hashLabel", "set hashHeader or hashLabel, not both");
    }
    if (!hashing && (!lb.getHashHeader().isEmpty() || !lb.getHashLabel().isEmpty())) {
      throw LodestarException.invalid(lb.getHashHeader().isEmpty() ? "hashLabel" : "hashHeader",
          "a hash key applies to ring_hash and maglev only");
    }
    key("hashHeader", lb.getHashHeader(), true);
    key("hashLabel", lb.getHashLabel(), true);
    if (lb.hasAdaptive()) {
      if (lb.getPolicy() != LoadBalanceRule.Policy.ADAPTIVE) {
        throw LodestarException.invalid("adaptive", "adaptive settings apply to the adaptive policy only");
      }
      AdaptiveSettings a = lb.getAdaptive();
      range("adaptive.updateIntervalMs", a.getUpdateIntervalMs(), 0, 600_000);
      range("adaptive.overloadConsecutiveErrors", a.getOverloadConsecutiveErrors(), 0, 1_000_000);
      share("adaptive.overloadErrorRate", a.getOverloadErrorRate());
      range("adaptive.minCalls", a.getMinCalls(), 0, 1_000_000);
      share("adaptive.probeShare", a.getProbeShare());
      share("adaptive.recoverySuccessRate", a.getRecoverySuccessRate());
      range("adaptive.recoveryConsecutiveSuccesses", a.getRecoveryConsecutiveSuccesses(), 0, 1_000_000);
      if (Double.isNaN(a.getRecoveryStep()) || a.getRecoveryStep() < 0 || a.getRecoveryStep() >= 1) {
        throw LodestarException.invalid("adaptive.recoveryStep",
            "adaptive.recoveryStep must be within [0, 1): recovery is never one step");
      }
    }
  }

  // ------------------------------------------------------------------ routing

  static void route(RouteRules r) {
    count("rules", r.getRulesCount(), MAX_RULES);
    for (int i = 0; i < r.getRulesCount(); i++) {
      String p = "rules[" + i + "]";
      RouteRule rule = r.getRules(i);
      if (rule.getName().length() > MAX_KEY) {
        throw LodestarException.invalid(p + ".name", p + ".name must have at most " + MAX_KEY + " characters");
      }
      match(p + ".match", rule.getMatch());
      if (rule.getDestinationsCount() == 0) {
        throw LodestarException.invalid(p + ".destinations", p + ".destinations needs at least one destination");
      }
      count(p + ".destinations", rule.getDestinationsCount(), MAX_DESTINATIONS);
      for (int j = 0; j < rule.getDestinationsCount(); j++) {
        String d = p + ".destinations[" + j + "]";
        Destination dest = rule.getDestinations(j);
        range(d + ".weight", dest.getWeight(), 0, Validation.MAX_WEIGHT);
        Validation.metadata(d + ".subset", dest.getSubsetMap());
      }
    }
    known("fallback", r.getFallbackValue(), RouteRules.Fallback.getDescriptor());
    Nearby n = r.getNearby();
    share("nearby.minHealthyShare", n.getMinHealthyShare());
    key("nearby.zoneKey", n.getZoneKey(), true);
    key("nearby.regionKey", n.getRegionKey(), true);
  }

  static void match(String p, Match m) {
    conditions(p + ".caller", m.getCallerMap());
    conditions(p + ".labels", m.getLabelsMap());
    conditions(p + ".headers", m.getHeadersMap());
    if (m.hasMethod()) {
      matchValue(p + ".method", m.getMethod());
    }
  }

  private static void conditions(String p, Map<String, MatchValue> map) {
    count(p, map.size(), MAX_CONDITIONS);
    for (Map.Entry<String, MatchValue> e : map.entrySet()) {
      key(p, e.getKey(), false);
      matchValue(p + "." + e.getKey(), e.getValue());
    }
  }

  static void matchValue(String p, MatchValue v) {
    int set = (v.getExact().isEmpty() ? 0 : 1) + (v.getRegex().isEmpty() ? 0 : 1) + (v.getInCount() == 0 ? 0 : 1)
        + (v.getNotInCount() == 0 ? 0 : 1);
    if (set != 1) {
      throw LodestarException.invalid(p, p + " needs exactly one of exact, regex, in, notIn");
    }
    if (v.getExact().length() > MAX_VALUE) {
      throw LodestarException.invalid(p + ".exact", p + ".exact must have at most " + MAX_VALUE + " characters");
    }
    if (!v.getRegex().isEmpty()) {
      if (v.getRegex().length() > MAX_VALUE) {
        throw LodestarException.invalid(p + ".regex", p + ".regex must have at most " + MAX_VALUE + " characters");
      }
      try {
        Pattern.compile(v.getRegex());
      } catch (PatternSyntaxException e) {
        throw LodestarException.invalid(p + ".regex", p + ".regex is not a valid regular expression: "
            + e.getDescription() + " near index " + e.getIndex());
      }
    }
    count(p + ".in", v.getInCount(), MAX_VALUES);
    count(p + ".notIn", v.getNotInCount(), MAX_VALUES);
  }

  // ------------------------------------------------------------------ circuit breaking

  static void circuitBreaker(CircuitBreakerRule c) {
    if (c.hasInstance()) {
      breaker("instance", c.getInstance());
    }
    if (c.hasService()) {
      breaker("service", c.getService());
    }
    count("methods", c.getMethodsCount(), MAX_RULES);
    for (Map.Entry<String, BreakerSettings> e : c.getMethodsMap().entrySet()) {
      key("methods", e.getKey(), false);
      breaker("methods." + e.getKey(), e.getValue());
    }
    share("maxEjectionShare", c.getMaxEjectionShare());
  }

  static void breaker(String p, BreakerSettings b) {
    range(p + ".consecutiveErrors", b.getConsecutiveErrors(), 0, 1_000_000);
    share(p + ".errorRate", b.getErrorRate());
    share(p + ".slowCallRate", b.getSlowCallRate());
    range(p + ".slowCallMs", b.getSlowCallMs(), 0, MAX_MS);
    if (b.getWindowMs() != 0) {
      range(p + ".windowMs", b.getWindowMs(), 100, MAX_MS);
    }
    range(p + ".minCalls", b.getMinCalls(), 0, 1_000_000);
    range(p + ".openMs", b.getOpenMs(), 0, MAX_MS);
    range(p + ".halfOpenProbes", b.getHalfOpenProbes(), 0, 10_000);
    long probes = b.getHalfOpenProbes() == 0 ? 10 : b.getHalfOpenProbes();
    if (b.getSuccessesToClose() > probes) {
      throw LodestarException.invalid(p + ".successesToClose", p + ".successesToClose (" + b.getSuccessesToClose()
          + ") must not exceed halfOpenProbes (" + probes + ")");
    }
  }

  // ------------------------------------------------------------------ rate limiting

  static void rateLimit(RateLimitRules r) {
    count("rules", r.getRulesCount(), MAX_RULES);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < r.getRulesCount(); i++) {
      String p = "rules[" + i + "]";
      RateLimitRule rule = r.getRules(i);
      Validation.name(p + ".name", rule.getName());
      if (!names.add(rule.getName())) {
        throw LodestarException.invalid(p + ".name", p + ".name '" + rule.getName() + "' is used twice");
      }
      match(p + ".match", rule.getMatch());
      if (rule.getLimit() < 1 || rule.getLimit() > 1_000_000_000L) {
        throw LodestarException.invalid(p + ".limit", p + ".limit must be within 1–1000000000, got " + Long.toUnsignedString(rule.getLimit()));
      }
      range(p + ".intervalMs", rule.getIntervalMs(), 0, MAX_MS);
      known(p + ".algorithm", rule.getAlgorithmValue(), RateLimitRule.Algorithm.getDescriptor());
      range(p + ".burst", rule.getBurst(), 0, 1_000_000_000);
      known(p + ".action", rule.getActionValue(), RateLimitRule.Action.getDescriptor());
      range(p + ".maxWaitMs", rule.getMaxWaitMs(), 0, 60_000);
      known(p + ".scope", rule.getScopeValue(), RateLimitRule.Scope.getDescriptor());
      known(p + ".failMode", rule.getFailModeValue(), RateLimitRule.FailMode.getDescriptor());
      if (rule.getScope() == RateLimitRule.Scope.CLUSTER && rule.getAlgorithm() == RateLimitRule.Algorithm.SLIDING_WINDOW) {
        throw LodestarException.invalid(p + ".algorithm", "cluster limits are enforced with token_bucket");
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * An enum field holds a value of its type. REST refuses an unknown name before this (the same
   * message); this catches a number no value has, which only a hand-made proto can carry.
   */
  private static void known(String field, int number, EnumDescriptor type) {
    if (type.findValueByNumber(number) == null) {
      throw LodestarException.invalid(field, WireEnums.notOneOf(field, type, String.valueOf(number)));
    }
  }

  /** {@code uint32} is an int in Java: read it unsigned, so that 4294967295 is named as sent, not -1. */
  private static void range(String field, int uint32, long min, long max) {
    long v = Integer.toUnsignedLong(uint32);
    if (v < min || v > max) {
      throw LodestarException.invalid(field, field + " must be within " + min + "–" + max + ", got " + v);
    }
  }

  private static void share(String field, double v) {
    Validation.share(field, v);
  }

  private static void count(String field, int n, int max) {
    if (n > max) {
      throw LodestarException.invalid(field, field + " has more than " + max + " entries");
    }
  }

  private static void key(String field, String k, boolean emptyOk) {
    if ((!emptyOk && k.isEmpty()) || k.length() > MAX_KEY) {
      throw LodestarException.invalid(field, field + " keys must have 1–" + MAX_KEY + " characters");
    }
  }
}
