package io.lodestar.server.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Assignments: health, the protection threshold, weights, and the empty-subset fallback. */
class EndpointFactoryTest {
  private static final ServiceKey KEY = new ServiceKey("default", "svc");

  @Test
  void healthyOnlyUntilTheProtectionThresholdThenEveryInstance() {
    ServiceView oneOfFourDown = view(0.5, up("a", 1), up("b", 2), up("c", 3), down("d", 4));
    assertThat(ports(EndpointFactory.build("svc", oneOfFourDown, Map.of(), RouteRules.getDefaultInstance(), Map.of())))
        .containsExactly(1, 2, 3);
    ServiceView threeOfFourDown = view(0.5, up("a", 1), down("b", 2), down("c", 3), down("d", 4));
    ClusterLoadAssignment all = EndpointFactory.build("svc", threeOfFourDown, Map.of(),
        RouteRules.getDefaultInstance(), Map.of());
    assertThat(ports(all)).containsExactlyInAnyOrder(1, 2, 3, 4);
    // served under protection, the unhealthy ones say so without being dropped by the client
    assertThat(all.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
        .filter(e -> e.getHealthStatus() == io.envoyproxy.envoy.config.core.v3.HealthStatus.UNKNOWN)).hasSize(3);
  }

  @Test
  void weightsBecomeLocalityWeightsAndWeightZeroIsLeftOut() {
    ServiceView v = view(0.5, up("a", 1).toBuilder().setWeight(300).build(), up("b", 2), up("c", 3),
        up("z", 4).toBuilder().setWeight(0).build());
    ClusterLoadAssignment cla = EndpointFactory.build("svc", v, Map.of(), RouteRules.getDefaultInstance(), Map.of());
    assertThat(cla.getEndpointsList()).extracting(l -> l.getLocality().getSubZone(),
        l -> l.getLoadBalancingWeight().getValue(), l -> l.getLbEndpointsCount())
        .containsExactly(org.assertj.core.groups.Tuple.tuple("w100", 200, 2),
            org.assertj.core.groups.Tuple.tuple("w300", 300, 1));
    assertThat(ports(cla)).doesNotContain(4);
  }

  @Test
  void anEmptySubsetFallsBackToEveryInstanceUnlessTheRulesSayFail() {
    ServiceView v = view(0.5, up("a", 1), up("b", 2));
    assertThat(ports(EndpointFactory.build("svc|version=v9", v, Map.of("version", "v9"),
        RouteRules.getDefaultInstance(), Map.of()))).containsExactly(1, 2);
    assertThat(ports(EndpointFactory.build("svc|version=v9", v, Map.of("version", "v9"),
        RouteRules.newBuilder().setFallback(RouteRules.Fallback.FAIL).build(), Map.of()))).isEmpty();
  }

  private static ServiceView view(double threshold, Instance... instances) {
    return new ServiceView(KEY, ServiceInfo.newBuilder().setNamespace("default").setName("svc")
        .setProtectThreshold(threshold).build(), 1, List.of(instances));
  }

  private static Instance up(String id, int port) {
    return Instance.newBuilder().setId(id).setHost("127.0.0.1").setPort(port).setHealth(HealthStatus.HEALTHY).build();
  }

  private static Instance down(String id, int port) {
    return up(id, port).toBuilder().setHealth(HealthStatus.UNHEALTHY).build();
  }

  private static List<Integer> ports(ClusterLoadAssignment cla) {
    return cla.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
        .map(LbEndpoint::getEndpoint).map(e -> e.getAddress().getSocketAddress().getPortValue()).toList();
  }
}
