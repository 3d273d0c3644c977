package io.lodestar.server.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.LoadBalancingPolicy;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.load_balancing_policies.maglev.v3.Maglev;
import io.envoyproxy.envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.lodestar.api.v1.BreakerSettings;
import io.lodestar.api.v1.CircuitBreakerRule;
import io.lodestar.api.v1.GovernanceRules;

/**
 * A service's (or subset's) Cluster: EDS over ADS (grpc-xds NACKs STATIC), the balancing policy of
 * the load-balance rule, and outlier detection from the circuit-breaker rule's instance settings.
 */
final class ClusterFactory {
  static final ConfigSource ADS = ConfigSource.newBuilder()
      .setAds(AggregatedConfigSource.getDefaultInstance())
      .setResourceApiVersion(ApiVersion.V3).build();

  private ClusterFactory() {}

  static Cluster build(String name, GovernanceRules rules) {
    Cluster.Builder c = Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ADS).setServiceName(name))
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        // Envoy: speak to the instance as the caller spoke (HTTP/2 for gRPC); gRPC ignores this
        .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            Any.pack(HttpProtocolOptions.newBuilder()
                .setUseDownstreamProtocolConfig(HttpProtocolOptions.UseDownstreamHttpConfig.getDefaultInstance())
                .build()));
    switch (rules.getLoadbalance().getPolicy()) {
      case LEAST_REQUEST -> c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
      case RING_HASH -> c.setLbPolicy(Cluster.LbPolicy.RING_HASH);
      // Maglev where the client has it (Envoy), else ring hash (gRPC has no Maglev): both consistent
      // hashing on the same key. A client takes the first policy of the list it supports.
      case MAGLEV -> c.setLoadBalancingPolicy(LoadBalancingPolicy.newBuilder()
          .addPolicies(policy("envoy.load_balancing_policies.maglev", Any.pack(Maglev.getDefaultInstance())))
          .addPolicies(policy("envoy.load_balancing_policies.ring_hash", Any.pack(RingHash.getDefaultInstance()))));
      // weighted_random, round_robin, adaptive: round robin over localities weighted by instance
      // weight (see EndpointFactory), which is how weights take effect in grpc-xds.
      default -> c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    }
    CircuitBreakerRule breaker = rules.getCircuitbreaker();
    if (!breaker.getDisabled()) {
      c.setOutlierDetection(outlierDetection(breaker));
    }
    return c.build();
  }

  private static LoadBalancingPolicy.Policy policy(String name, Any config) {
    return LoadBalancingPolicy.Policy.newBuilder()
        .setTypedExtensionConfig(TypedExtensionConfig.newBuilder().setName(name).setTypedConfig(config)).build();
  }

  /** The SDK's instance breaker, as far as outlier detection can say it (defaults as in the SDK). */
  static OutlierDetection outlierDetection(CircuitBreakerRule breaker) {
    BreakerSettings s = breaker.getInstance();
    int consecutive = s.getConsecutiveErrors() == 0 ? 5 : s.getConsecutiveErrors();
    double errorRate = s.getErrorRate() <= 0 ? 0.5 : s.getErrorRate();
    int minCalls = s.getMinCalls() == 0 ? 10 : s.getMinCalls();
    int windowMs = s.getWindowMs() == 0 ? 30_000 : s.getWindowMs();
    int openMs = s.getOpenMs() == 0 ? 30_000 : s.getOpenMs();
    double maxShare = breaker.getMaxEjectionShare() <= 0 ? 0.5 : breaker.getMaxEjectionShare();
    return OutlierDetection.newBuilder()
        .setConsecutive5Xx(UInt32Value.of(consecutive))
        .setConsecutiveGatewayFailure(UInt32Value.of(consecutive))
        .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(100))
        .setInterval(millis(windowMs))
        .setBaseEjectionTime(millis(openMs))
        .setMaxEjectionPercent(UInt32Value.of((int) Math.round(maxShare * 100)))
        // the SDK judges each instance on its own error rate, not against its peers
        .setEnforcingSuccessRate(UInt32Value.of(0))
        .setFailurePercentageThreshold(UInt32Value.of((int) Math.round(Math.min(1.0, errorRate) * 100)))
        .setEnforcingFailurePercentage(UInt32Value.of(100))
        .setFailurePercentageRequestVolume(UInt32Value.of(minCalls))
        .setFailurePercentageMinimumHosts(UInt32Value.of(1))
        .build();
  }

  private static Duration millis(long ms) {
    return Duration.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000).build();
  }
}
