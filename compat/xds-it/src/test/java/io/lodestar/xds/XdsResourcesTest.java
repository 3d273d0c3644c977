package io.lodestar.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated resources for a service with every kind of rule, read over a raw ADS stream as a
 * node with caller labels and a locality; and a NACK.
 */
class XdsResourcesTest {
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir static Path data;
  static LodestarServer server;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(data).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    instance("a", 9001, 100, Map.of("version", "v1", "zone", "z1", "region", "r1"));
    instance("b", 9002, 200, Map.of("version", "v1", "zone", "z2", "region", "r1"));
    instance("c", 9003, 100, Map.of("version", "v2", "zone", "z1", "region", "r1"));
    instance("d", 9004, 0, Map.of("version", "v2", "zone", "z1", "region", "r1"));
    rule("route", """
        {"rules": [
          {"name": "prod-callers", "match": {"caller": {"env": {"exact": "prod"}}},
           "destinations": [{"subset": {"version": "v1"}}]},
          {"name": "beta-header", "match": {"headers": {"X-Beta": {"in": ["1", "yes"]}}},
           "destinations": [{"subset": {"version": "v2"}}]},
          {"name": "canary", "destinations": [{"subset": {"version": "v1"}, "weight": 80},
                                              {"subset": {"version": "v2"}, "weight": 20}]}],
         "nearby": {"enabled": true}}""");
    rule("loadbalance", "{\"policy\": \"ring_hash\", \"hashHeader\": \"x-user\"}");
    rule("circuitbreaker", """
        {"instance": {"consecutiveErrors": 7, "errorRate": 0.3, "openMs": 5000, "minCalls": 20},
         "maxEjectionShare": 0.4}""");
    rule("ratelimit", "{\"rules\": [{\"name\": \"all\", \"limit\": 100, \"intervalMs\": 1000}]}");
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void resourcesOfAServiceWithRules() throws Exception {
    try (Ads ads = new Ads(node("test"))) {
      Listener listener = ads.get(LDS, List.of("shop")).getResources(0).unpack(Listener.class);
      assertThat(listener.getName()).isEqualTo("shop");
      HttpConnectionManager hcm = listener.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
      assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("shop");
      assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
      List<HttpFilter> filters = hcm.getHttpFiltersList();
      assertThat(filters.get(filters.size() - 1).getName()).isEqualTo("envoy.filters.http.router");
      assertThat(filters.get(0).getIsOptional()).isTrue();
      LocalRateLimit limit = filters.get(0).getTypedConfig().unpack(LocalRateLimit.class);
      assertThat(limit.getTokenBucket().getMaxTokens()).isEqualTo(100);
      assertThat(limit.getTokenBucket().getFillInterval().getSeconds()).isEqualTo(1);

      RouteConfiguration routes = ads.get(RDS, List.of("shop")).getResources(0).unpack(RouteConfiguration.class);
      List<Route> r = routes.getVirtualHosts(0).getRoutesList();
      // the caller rule does not hold for env=test: left out
      assertThat(r).extracting(Route::getName).containsExactly("beta-header", "canary", "default");
      assertThat(r.get(0).getMatch().getHeaders(0).getName()).isEqualTo("x-beta");
      assertThat(r.get(0).getMatch().getHeaders(0).getStringMatch().getSafeRegex().getRegex()).isEqualTo("(1|yes)");
      assertThat(r.get(0).getRoute().getCluster()).isEqualTo("shop|version=v2");
      assertThat(r.get(1).getRoute().getWeightedClusters().getClustersList())
          .extracting(WeightedCluster.ClusterWeight::getName, c -> c.getWeight().getValue())
          .containsExactly(org.assertj.core.groups.Tuple.tuple("shop|version=v1", 80),
              org.assertj.core.groups.Tuple.tuple("shop|version=v2", 20));
      assertThat(r.get(2).getRoute().getCluster()).isEqualTo("shop");
      assertThat(r).allSatisfy(route ->
          assertThat(route.getRoute().getHashPolicy(0).getHeader().getHeaderName()).isEqualTo("x-user"));

      List<String> clusterNames = List.of("shop", "shop|version=v1", "shop|version=v2");
      List<Cluster> clusters = unpack(ads.get(CDS, clusterNames), Cluster.class);
      assertThat(clusters).extracting(Cluster::getName).containsExactlyInAnyOrderElementsOf(clusterNames);
      for (Cluster c : clusters) {
        assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
        assertThat(c.getEdsClusterConfig().getServiceName()).isEqualTo(c.getName());
        assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RING_HASH);
        assertThat(c.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(7);
        assertThat(c.getOutlierDetection().getFailurePercentageThreshold().getValue()).isEqualTo(30);
        assertThat(c.getOutlierDetection().getFailurePercentageRequestVolume().getValue()).isEqualTo(20);
        assertThat(c.getOutlierDetection().getBaseEjectionTime().getSeconds()).isEqualTo(5);
        assertThat(c.getOutlierDetection().getMaxEjectionPercent().getValue()).isEqualTo(40);
      }

      Map<String, ClusterLoadAssignment> cla = byName(unpack(ads.get(EDS, clusterNames), ClusterLoadAssignment.class));
      // nearby: the caller's zone z1 first, then the rest of region r1; weight 0 (d) left out;
      // one locality per (region, zone, weight), weighted by weight x members
      assertThat(localities(cla.get("shop"))).containsExactly(
          "p0 r1/z1/w100 x200 [9001, 9003]",
          "p1 r1/z2/w200 x200 [9002]");
      assertThat(localities(cla.get("shop|version=v1"))).containsExactly(
          "p0 r1/z1/w100 x100 [9001]",
          "p1 r1/z2/w200 x200 [9002]");
      assertThat(localities(cla.get("shop|version=v2"))).containsExactly("p0 r1/z1/w100 x100 [9003]");
    }
  }

  @Test
  void callersWhoseConditionHoldsGetTheirRoute() throws Exception {
    try (Ads ads = new Ads(node("prod"))) {
      RouteConfiguration routes = ads.get(RDS, List.of("shop")).getResources(0).unpack(RouteConfiguration.class);
      List<Route> r = routes.getVirtualHosts(0).getRoutesList();
      assertThat(r).extracting(Route::getName).containsExactly("prod-callers", "beta-header", "canary", "default");
      assertThat(r.get(0).getMatch().getHeadersCount()).isZero();
      assertThat(r.get(0).getRoute().getCluster()).isEqualTo("shop|version=v1");
    }
  }

  @Test
  void aNackIsNotAnsweredUntilTheResourcesChange() throws Exception {
    try (Ads ads = new Ads(node("test"))) {
      ads.get(LDS, List.of("shop"));
      DiscoveryResponse eds = ads.send(EDS, List.of("shop|version=v2"), "", "");
      // the node rejects it: the server logs it and sends nothing until the assignment changes
      ads.nack(eds, List.of("shop|version=v2"), "test: rejected on purpose");
      instance("e", 9005, 100, Map.of("version", "v2", "zone", "z1", "region", "r1"));
      DiscoveryResponse next = ads.next();
      assertThat(next.getTypeUrl()).isEqualTo(EDS);
      assertThat(next.getVersionInfo()).isNotEqualTo(eds.getVersionInfo());
      assertThat(localities(next.getResources(0).unpack(ClusterLoadAssignment.class)))
          .containsExactly("p0 r1/z1/w100 x200 [9003, 9005]");
    } finally {
      send("DELETE", "/v1/namespaces/default/services/shop/instances/e", null);
    }
  }

  @Test
  void changesMadeWhileNoStreamIsOpenWaitForTheNextStreamInsteadOfWakingTheXdsThread() throws Exception {
    // the other tests' streams have ended
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("lodestar_xds_streams") == 0);
    double drains = metric("lodestar_xds_push_seconds_count");
    try {
      // three acknowledged changes, one after another, with nobody following the service
      for (int i = 0; i < 3; i++) {
        instance("quiet-" + i, 9100 + i, 100, Map.of("version", "v3", "zone", "z1", "region", "r1"));
      }
      try (Ads ads = new Ads(node("test"))) {
        ClusterLoadAssignment cla = ads.get(EDS, List.of("shop")).getResources(0)
            .unpack(ClusterLoadAssignment.class);
        assertThat(localities(cla)).first().asString().contains("9100, 9101, 9102");
      }
      // one drain, run by the stream's opening, not one per change
      assertThat(metric("lodestar_xds_push_seconds_count") - drains).isEqualTo(1.0);
    } finally {
      for (int i = 0; i < 3; i++) {
        send("DELETE", "/v1/namespaces/default/services/shop/instances/quiet-" + i, null);
      }
    }
  }

  static double metric(String name) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    return r.body().lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void anEnvoySidecarGetsListenersOnItsPortsAndEveryClusterOfItsNamespace() throws Exception {
    Node envoy = node("test").toBuilder().setId("sidecar-1").setUserAgentName("envoy")
        .setMetadata(node("test").getMetadata().toBuilder()
            .putFields("lodestar.outbound", Value.newBuilder().setStringValue("127.0.0.1:15001").build())
            .putFields("lodestar.inbound", Value.newBuilder().setStringValue("0.0.0.0:15006").build())
            .putFields("lodestar.app_port", Value.newBuilder().setStringValue("8080").build()))
        .build();
    try (Ads ads = new Ads(envoy)) {
      // Envoy asks for everything (wildcard): an empty first request
      Map<String, Listener> listeners = new java.util.HashMap<>();
      unpack(ads.get(LDS, List.of()), Listener.class).forEach(l -> listeners.put(l.getName(), l));
      assertThat(listeners).containsOnlyKeys("lodestar_outbound", "lodestar_inbound");
      Listener out = listeners.get("lodestar_outbound");
      assertThat(out.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
      HttpConnectionManager hcm = out.getFilterChains(0).getFilters(0).getTypedConfig()
          .unpack(HttpConnectionManager.class);
      assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("lodestar_outbound");
      assertThat(hcm.getHttpFilters(hcm.getHttpFiltersCount() - 1).getName()).isEqualTo("envoy.filters.http.router");
      Listener in = listeners.get("lodestar_inbound");
      assertThat(in.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);

      List<Cluster> clusters = unpack(ads.get(CDS, List.of()), Cluster.class);
      assertThat(clusters).extracting(Cluster::getName)
          .contains("shop", "shop|version=v1", "shop|version=v2", "lodestar_inbound_app");
      Cluster app = clusters.stream().filter(c -> c.getName().equals("lodestar_inbound_app")).findFirst().orElseThrow();
      assertThat(app.getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
      assertThat(app.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
          .getSocketAddress().getPortValue()).isEqualTo(8080);

      RouteConfiguration routes = ads.get(RDS, List.of("lodestar_outbound")).getResources(0)
          .unpack(RouteConfiguration.class);
      io.envoyproxy.envoy.config.route.v3.VirtualHost shop = routes.getVirtualHostsList().stream()
          .filter(v -> v.getName().equals("shop")).findFirst().orElseThrow();
      assertThat(shop.getDomainsList()).containsExactly("shop", "shop:*");
      assertThat(shop.getRoutesList()).extracting(Route::getName).containsExactly("beta-header", "canary", "default");
    }
  }

  // ------------------------------------------------------------------ helpers

  static Node node(String env) {
    return Node.newBuilder().setId("res-" + env).setUserAgentName("gRPC Java")
        .setMetadata(Struct.newBuilder()
            .putFields("lodestar.namespace", Value.newBuilder().setStringValue("default").build())
            .putFields("env", Value.newBuilder().setStringValue(env).build()))
        .setLocality(Locality.newBuilder().setRegion("r1").setZone("z1"))
        .build();
  }

  static List<String> localities(ClusterLoadAssignment cla) {
    return cla.getEndpointsList().stream().map(XdsResourcesTest::describe).toList();
  }

  static String describe(LocalityLbEndpoints l) {
    List<Integer> ports = l.getLbEndpointsList().stream()
        .map(LbEndpoint::getEndpoint).map(e -> e.getAddress().getSocketAddress().getPortValue()).toList();
    return "p" + l.getPriority() + " " + l.getLocality().getRegion() + "/" + l.getLocality().getZone() + "/"
        + l.getLocality().getSubZone() + " x" + l.getLoadBalancingWeight().getValue() + " " + ports;
  }

  static <T extends com.google.protobuf.Message> List<T> unpack(DiscoveryResponse r, Class<T> type) {
    return r.getResourcesList().stream().map(a -> {
      try {
        return a.unpack(type);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }).toList();
  }

  static Map<String, ClusterLoadAssignment> byName(List<ClusterLoadAssignment> list) {
    Map<String, ClusterLoadAssignment> m = new java.util.HashMap<>();
    list.forEach(c -> m.put(c.getClusterName(), c));
    return m;
  }

  static void instance(String id, int port, int weight, Map<String, String> metadata) throws Exception {
    String md = metadata.entrySet().stream().map(e -> "\"" + e.getKey() + "\":\"" + e.getValue() + "\"")
        .collect(java.util.stream.Collectors.joining(","));
    send("POST", "/v1/namespaces/default/services/shop/instances", """
        {"id": "%s", "host": "127.0.0.1", "port": %d, "weight": %d, "ephemeral": false, "metadata": {%s}}"""
        .formatted(id, port, weight, md));
  }

  static void rule(String kind, String json) throws Exception {
    send("PUT", "/v1/namespaces/default/services/shop/rules/" + kind, json);
  }

  static void send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
  }

  /** A raw ADS stream, as a proxy or proxyless client drives it: request, response, ACK. */
  static final class Ads implements AutoCloseable {
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final StreamObserver<DiscoveryRequest> requests;
    private final Node node;

    Ads(Node node) {
      this.node = node;
      this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
        @Override
        public void onNext(DiscoveryResponse r) {
          received.add(r);
        }

        @Override
        public void onError(Throwable t) {
          received.add(t);
        }

        @Override
        public void onCompleted() {
          received.add("completed");
        }
      });
    }

    /** Subscribes and ACKs the answer. */
    DiscoveryResponse get(String type, List<String> names) throws Exception {
      DiscoveryResponse r = send(type, names, "", "");
      send(type, names, r.getVersionInfo(), r.getNonce(), null);
      return r;
    }

    DiscoveryResponse send(String type, List<String> names, String version, String nonce) throws Exception {
      send(type, names, version, nonce, null);
      DiscoveryResponse r = next();
      assertThat(r.getTypeUrl()).isEqualTo(type);
      return r;
    }

    void nack(DiscoveryResponse r, List<String> names, String error) {
      send(r.getTypeUrl(), names, "", r.getNonce(), error);
    }

    void send(String type, List<String> names, String version, String nonce, String error) {
      DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type)
          .addAllResourceNames(names).setVersionInfo(version).setResponseNonce(nonce);
      if (error != null) {
        b.setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(error));
      }
      requests.onNext(b.build());
    }

    DiscoveryResponse next() throws Exception {
      Object o = received.poll(10, TimeUnit.SECONDS);
      assertThat(o).as("a response within 10 s").isInstanceOf(DiscoveryResponse.class);
      return (DiscoveryResponse) o;
    }

    @Override
    public void close() {
      requests.onCompleted();
    }
  }
}
