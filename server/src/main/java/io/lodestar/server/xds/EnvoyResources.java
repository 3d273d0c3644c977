package io.lodestar.server.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.lodestar.api.v1.GovernanceRules;
import java.util.ArrayList;
import java.util.List;

/**
 * What an Envoy node gets beyond the per-service resources: real listeners on ports.
 *
 * <ul>
 *   <li>{@code lodestar_outbound} on {@code lodestar.outbound} (default 127.0.0.1:15001): the app
 *       (sidecar) or the world (gateway) sends HTTP or gRPC here; the Host/:authority names the
 *       service. Its routes ({@code lodestar_outbound}, RDS) hold one virtual host per service of
 *       the namespace with that service's route rules.
 *   <li>{@code lodestar_inbound} on {@code lodestar.inbound} when the node also sets
 *       {@code lodestar.app_port} (sidecar): forwards to the local app through the static cluster
 *       {@code lodestar_inbound_app}.
 * </ul>
 */
final class EnvoyResources {
  static final String OUTBOUND = "lodestar_outbound";
  static final String OUTBOUND_ROUTE = "lodestar_outbound";
  static final String INBOUND = "lodestar_inbound";
  static final String INBOUND_CLUSTER = "lodestar_inbound_app";
  static final String DEFAULT_OUTBOUND = "127.0.0.1:15001";

  private EnvoyResources() {}

  static List<XdsResource> listeners(XdsNode node) {
    List<XdsResource> out = new ArrayList<>();
    HttpConnectionManager outbound = ListenerFactory.connectionManager(OUTBOUND, OUTBOUND_ROUTE,
        GovernanceRules.getDefaultInstance());
    out.add(XdsResource.of(OUTBOUND, listener(OUTBOUND, node.labels().getOrDefault("lodestar.outbound", DEFAULT_OUTBOUND),
        outbound)));
    String inbound = node.labels().get("lodestar.inbound");
    if (inbound != null && node.labels().containsKey("lodestar.app_port")) {
      HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix(INBOUND)
          .setRouteConfig(RouteConfiguration.newBuilder().setName(INBOUND).addVirtualHosts(VirtualHost.newBuilder()
              .setName(INBOUND).addDomains("*").addRoutes(Route.newBuilder()
                  .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                  .setRoute(RouteAction.newBuilder().setCluster(INBOUND_CLUSTER)))))
          .addHttpFilters(HttpFilter.newBuilder().setName(ListenerFactory.ROUTER)
              .setTypedConfig(Any.pack(Router.getDefaultInstance())))
          .build();
      out.add(XdsResource.of(INBOUND, listener(INBOUND, inbound, hcm)));
    }
    return out;
  }

  static XdsResource outboundRoutes(XdsNode node, List<ServiceResources> services) {
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(OUTBOUND_ROUTE);
    for (ServiceResources s : services) {
      rc.addVirtualHosts(RouteFactory.virtualHost(s.service(), s.rules(), node.labels(),
          List.of(s.service(), s.service() + ":*")));
    }
    return XdsResource.of(OUTBOUND_ROUTE, rc.build());
  }

  /** The sidecar's own app, as a static cluster (Envoy only; gRPC would NACK STATIC). */
  static List<XdsResource> localClusters(XdsNode node) {
    String appPort = node.labels().get("lodestar.app_port");
    if (appPort == null || node.labels().get("lodestar.inbound") == null) {
      return List.of();
    }
    int port;
    try {
      port = Integer.parseInt(appPort);
    } catch (NumberFormatException e) {
      return List.of();
    }
    Cluster c = Cluster.newBuilder().setName(INBOUND_CLUSTER).setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            Any.pack(HttpProtocolOptions.newBuilder()
                .setUseDownstreamProtocolConfig(HttpProtocolOptions.UseDownstreamHttpConfig.getDefaultInstance())
                .build()))
        .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(INBOUND_CLUSTER)
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address("127.0.0.1:" + port))))))
        .build();
    return List.of(XdsResource.of(INBOUND_CLUSTER, c));
  }

  private static Listener listener(String name, String hostPort, HttpConnectionManager hcm) {
    return Listener.newBuilder().setName(name).setAddress(address(hostPort))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm))))
        .build();
  }

  private static Address address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String host = colon < 0 ? "127.0.0.1" : hostPort.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = 15001;
    }
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port)).build();
  }
}
