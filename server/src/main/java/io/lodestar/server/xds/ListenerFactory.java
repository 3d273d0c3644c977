package io.lodestar.server.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.envoyproxy.envoy.type.v3.TokenBucket;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.RateLimitRule;

/**
 * The Listener a proxyless gRPC client asks for when it dials {@code xds:///service}: an
 * api_listener whose HttpConnectionManager takes its routes from RDS (RouteConfiguration of the
 * same name) and whose filter chain ends with the router (grpc-xds NACKs it otherwise).
 */
final class ListenerFactory {
  static final String ROUTER = "envoy.filters.http.router";
  static final String LOCAL_RATE_LIMIT = "envoy.filters.http.local_ratelimit";

  private ListenerFactory() {}

  static Listener apiListener(String service, GovernanceRules rules) {
    return Listener.newBuilder().setName(service)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(connectionManager(service, service, rules))))
        .build();
  }

  static HttpConnectionManager connectionManager(String statPrefix, String routeName, GovernanceRules rules) {
    HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(statPrefix)
        .setRds(Rds.newBuilder().setConfigSource(ClusterFactory.ADS).setRouteConfigName(routeName));
    addRateLimits(hcm, rules);
    hcm.addHttpFilters(HttpFilter.newBuilder().setName(ROUTER).setTypedConfig(Any.pack(Router.getDefaultInstance())));
    return hcm.build();
  }

  /**
   * Local-scope rate-limit rules that apply to every call become Envoy's local rate limit filter:
   * a token bucket per proxy, as the SDK keeps one per client. Marked optional, because grpc-java
   * has no such filter and would otherwise NACK the Listener.
   */
  private static void addRateLimits(HttpConnectionManager.Builder hcm, GovernanceRules rules) {
    for (RateLimitRule r : rules.getRatelimit().getRulesList()) {
      if (!isListenerWide(r)) {
        continue;
      }
      long interval = r.getIntervalMs() == 0 ? 1000 : r.getIntervalMs();
      long burst = r.getBurst() == 0 ? r.getLimit() : r.getBurst();
      FractionalPercent all = FractionalPercent.newBuilder().setNumerator(100)
          .setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
      LocalRateLimit config = LocalRateLimit.newBuilder()
          .setStatPrefix("lodestar_" + r.getName())
          .setTokenBucket(TokenBucket.newBuilder()
              .setMaxTokens((int) Math.min(Integer.MAX_VALUE, burst))
              .setTokensPerFill(com.google.protobuf.UInt32Value.of((int) Math.min(Integer.MAX_VALUE, r.getLimit())))
              .setFillInterval(Duration.newBuilder().setSeconds(interval / 1000).setNanos((int) (interval % 1000) * 1_000_000)))
          .setFilterEnabled(RuntimeFractionalPercent.newBuilder().setDefaultValue(all)
              .setRuntimeKey("lodestar_" + r.getName() + "_enabled"))
          .setFilterEnforced(RuntimeFractionalPercent.newBuilder().setDefaultValue(all)
              .setRuntimeKey("lodestar_" + r.getName() + "_enforced"))
          .build();
      hcm.addHttpFilters(HttpFilter.newBuilder().setName(LOCAL_RATE_LIMIT + "." + r.getName())
          .setTypedConfig(Any.pack(config)).setIsOptional(true));
    }
  }

  /** A local rule with no match and the reject action is what a per-proxy token bucket can say. */
  static boolean isListenerWide(RateLimitRule r) {
    return r.getLimit() > 0
        && (r.getScope() == RateLimitRule.Scope.SCOPE_UNSPECIFIED || r.getScope() == RateLimitRule.Scope.LOCAL)
        && (r.getAction() == RateLimitRule.Action.ACTION_UNSPECIFIED || r.getAction() == RateLimitRule.Action.REJECT)
        && (r.getAlgorithm() == RateLimitRule.Algorithm.ALGORITHM_UNSPECIFIED
            || r.getAlgorithm() == RateLimitRule.Algorithm.TOKEN_BUCKET)
        && r.getMatch().equals(io.lodestar.api.v1.Match.getDefaultInstance());
  }
}
