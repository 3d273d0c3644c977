package io.lodestar.client.internal.ratelimit;

import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.client.governance.Ticker;
import io.lodestar.client.internal.route.CallMatcher;
import io.lodestar.client.ratelimit.ClusterLimiter;
import io.lodestar.client.ratelimit.RateLimiter;
import io.lodestar.client.ratelimit.Sleeper;
import io.lodestar.client.ratelimit.SlidingWindowLimiter;
import io.lodestar.client.ratelimit.TokenBucket;
import io.lodestar.client.route.CallContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The compiled rate-limit rules of one service for one caller: every rule whose match holds must
 * grant a permit. Limiters keep their state across recompiles while their rule is unchanged, so a
 * push of an unrelated rule does not reset every bucket.
 */
public final class RateLimitTable {
  public static final int DEFAULT_INTERVAL_MS = 1000;
  public static final int DEFAULT_MAX_WAIT_MS = 1000;
  private static final RateLimitTable NONE = new RateLimitTable(List.of());

  /** One compiled rule. */
  public record Entry(RateLimitRule rule, CallMatcher matcher, RateLimiter limiter, boolean waits,
      long maxWaitNanos) {
    public String name() {
      return rule.getName();
    }
  }

  private final Entry[] entries;

  private RateLimitTable(List<Entry> entries) {
    this.entries = entries.toArray(new Entry[0]);
  }

  public static RateLimitTable none() {
    return NONE;
  }

  public static RateLimitTable compile(RateLimitRules rules, Map<String, String> caller, RateLimitTable previous,
      Ticker ticker, Sleeper sleeper) {
    List<Entry> out = new ArrayList<>();
    for (RateLimitRule r : rules.getRulesList()) {
      Entry old = previous == null ? null : previous.find(r.getName());
      RateLimiter limiter = old != null && old.rule.equals(r) ? old.limiter : limiterFor(r, ticker, sleeper);
      boolean waits = r.getAction() == RateLimitRule.Action.WAIT;
      long maxWait = TimeUnit.MILLISECONDS.toNanos(r.getMaxWaitMs() == 0 ? DEFAULT_MAX_WAIT_MS : r.getMaxWaitMs());
      out.add(new Entry(r, CallMatcher.compile(r.getMatch(), caller), limiter, waits, maxWait));
    }
    return out.isEmpty() ? NONE : new RateLimitTable(out);
  }

  private static RateLimiter limiterFor(RateLimitRule r, Ticker ticker, Sleeper sleeper) {
    long intervalMs = r.getIntervalMs() == 0 ? DEFAULT_INTERVAL_MS : r.getIntervalMs();
    double perSecond = r.getLimit() * 1000.0 / intervalMs;
    int burst = (int) Math.min(Integer.MAX_VALUE, Math.max(1, r.getBurst() == 0 ? r.getLimit() : r.getBurst()));
    if (r.getScope() == RateLimitRule.Scope.CLUSTER) {
      return new ClusterLimiter(r.getName(), perSecond, burst, r.getFailMode() == RateLimitRule.FailMode.CLOSED,
          ticker, sleeper);
    }
    if (r.getAlgorithm() == RateLimitRule.Algorithm.SLIDING_WINDOW) {
      return new SlidingWindowLimiter(r.getLimit(), TimeUnit.MILLISECONDS.toNanos(intervalMs), ticker, sleeper);
    }
    return new TokenBucket(perSecond, burst, ticker, sleeper);
  }

  public Entry find(String name) {
    for (Entry e : entries) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    return null;
  }

  /** The cluster-scoped limiters, for the quota client. */
  public List<ClusterLimiter> clusterLimiters() {
    List<ClusterLimiter> out = new ArrayList<>();
    for (Entry e : entries) {
      if (e.limiter instanceof ClusterLimiter c) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Takes a permit from every rule that matches the call, waiting where a rule says so.
   *
   * @return null when the call may go, else the rule that refused it
   */
  public Entry acquire(CallContext call) throws InterruptedException {
    for (Entry e : entries) {
      if (e.matcher.test(call)) {
        boolean ok = e.waits ? e.limiter.tryAcquire(e.maxWaitNanos, TimeUnit.NANOSECONDS) : e.limiter.tryAcquire();
        if (!ok) {
          return e;
        }
      }
    }
    return null;
  }
}
