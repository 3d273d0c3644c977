package io.lodestar.server.governance;

import io.lodestar.api.v1.QuotaGrant;
import io.lodestar.api.v1.QuotaReport;
import io.lodestar.api.v1.QuotaShare;
import io.lodestar.api.v1.QuotaUsage;
import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.core.governance.QuotaAllocator;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Cluster-wide rate limits: hands each SDK a share of a rule's global limit and rebalances shares
 * from the usage SDKs report (TSF's scheme, {@link QuotaAllocator}). Each SDK enforces its share
 * locally, so no call waits on the server.
 *
 * <p>State: the limits themselves are rules in the replicated state, so they survive restarts; the
 * usage kept here is soft state, rebuilt within a report interval from the SDKs' next reports
 * (until then each SDK enforces its fallback). A sharer that stops reporting for
 * {@link #EXPIRY_MS} is dropped and its share goes back to the others.
 *
 * <p>Concurrency: reports arrive about once a second per SDK; one monitor guards the usage maps.
 */
public final class QuotaService {
  /** A sharer silent for this long no longer holds a share. */
  public static final long EXPIRY_MS = 5_000;

  private record Key(String namespace, String service, String rule) {}

  private static final class Sharer {
    double demandEwma = Double.NaN;
    long lastSeenMs;
  }

  private final Registry registry;
  private final LongSupplier clockMs;
  private final java.util.function.IntSupplier nodes;
  private final Map<Key, Map<String, Sharer>> sharers = new HashMap<>();  // guarded by this

  public QuotaService(Registry registry, LongSupplier clockMs) {
    this(registry, clockMs, () -> 1);
  }

  /**
   * In a cluster each node sees only the SDKs connected to it, so it shares out 1/nodes of each
   * global limit: the sum of all grants never exceeds the limit (at the price of unused quota when
   * clients are spread unevenly; see docs/operations.md).
   */
  public QuotaService(Registry registry, LongSupplier clockMs, java.util.function.IntSupplier nodes) {
    this.registry = registry;
    this.clockMs = clockMs;
    this.nodes = nodes;
  }

  /** Takes one SDK's report and answers its current shares. */
  public synchronized QuotaGrant report(String clientId, QuotaReport report) {
    long now = clockMs.getAsLong();
    QuotaGrant.Builder grant = QuotaGrant.newBuilder();
    for (QuotaUsage u : report.getUsagesList()) {
      RateLimitRule rule = clusterRule(u.getNamespace(), u.getService(), u.getRule());
      if (rule == null) {
        continue;  // not (or no longer) a cluster rule: the SDK will learn from the next push
      }
      double limit = rule.getLimit() * 1000.0 / (rule.getIntervalMs() == 0 ? 1000 : rule.getIntervalMs())
          / Math.max(1, nodes.getAsInt());
      Key key = new Key(u.getNamespace(), u.getService(), u.getRule());
      // sorted by client id: allocation order is deterministic
      Map<String, Sharer> bySdk = sharers.computeIfAbsent(key, k -> new TreeMap<>());
      Sharer me = bySdk.computeIfAbsent(clientId, c -> new Sharer());
      double period = Math.max(1, u.getPeriodMs()) / 1000.0;
      double demand = (u.getUsed() + u.getRefused()) / period;
      // react at once to growth, decay slowly: a burst is not forgotten in one report
      me.demandEwma = Double.isNaN(me.demandEwma) || demand > me.demandEwma ? demand
          : 0.5 * me.demandEwma + 0.5 * demand;
      me.lastSeenMs = now;
      bySdk.values().removeIf(s -> now - s.lastSeenMs > EXPIRY_MS);
      double[] demands = new double[bySdk.size()];
      int mine = -1;
      int i = 0;
      for (Map.Entry<String, Sharer> e : bySdk.entrySet()) {
        if (e.getKey().equals(clientId)) {
          mine = i;
        }
        demands[i++] = e.getValue().demandEwma;
      }
      // In a cluster "global" is this node's part: an SDK that loses its node falls back to it divided
      // by the sharers it knew, which is its fair part of the true global limit.
      double[] shares = QuotaAllocator.allocate(limit, demands, QuotaAllocator.DEFAULT_MIN_FRACTION);
      grant.addShares(QuotaShare.newBuilder().setNamespace(key.namespace()).setService(key.service())
          .setRule(key.rule()).setPermitsPerSecond(shares[mine]).setSharers(bySdk.size()).setGlobalPerSecond(limit));
    }
    return grant.build();
  }

  /** The SDK's stream ended: its shares go back to the others. */
  public synchronized void forget(String clientId) {
    for (Iterator<Map<String, Sharer>> it = sharers.values().iterator(); it.hasNext(); ) {
      Map<String, Sharer> m = it.next();
      m.remove(clientId);
      if (m.isEmpty()) {
        it.remove();
      }
    }
  }

  private RateLimitRule clusterRule(String namespace, String service, String name) {
    ServiceView v = registry.view(namespace, service);
    if (v == null) {
      return null;
    }
    for (RateLimitRule r : v.info().getRules().getRatelimit().getRulesList()) {
      if (r.getName().equals(name) && r.getScope() == RateLimitRule.Scope.CLUSTER) {
        return r;
      }
    }
    return null;
  }
}
