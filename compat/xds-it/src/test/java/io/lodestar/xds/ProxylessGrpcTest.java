package io.lodestar.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proxyless grpc-java clients ({@code grpc-xds}, target {@code xds:///greeter}, bootstrap through
 * {@code io.grpc.xds.bootstrapConfig}) against real grpc-java greeters registered in a real
 * Lodestar server with the Java SDK. One server for the class; the steps build on each other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProxylessGrpcTest {
  // how fast a change reaches gRPC is measured in docs/benchmarks.md; here it only has to arrive
  private static final Duration PUSH = Duration.ofSeconds(30);
  private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir static Path data;
  static LodestarServer server;
  static int port;
  static ManagedChannel channel;
  static final Map<String, Greeter> backends = new LinkedHashMap<>();
  static final Map<String, LodestarClient> owners = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    // a call that fails (not yet resolved, backend going away) is "not yet", not a test error;
    // the first resolution on a busy machine takes a JIT-cold while
    org.awaitility.Awaitility.ignoreExceptionsByDefault();
    org.awaitility.Awaitility.setDefaultTimeout(Duration.ofSeconds(30));
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(data.resolve("server")).build().start();
    port = server.port();
    System.setProperty("io.grpc.xds.bootstrapConfig", """
        {"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
                          "server_features": ["xds_v3"]}],
         "node": {"id": "xds-it", "metadata": {"lodestar.namespace": "default", "team": "it"},
                  "locality": {"zone": "z1"}}}
        """.formatted(port));
    register("b1", "v1");
    register("b2", "v1");
    register("b3", "v2");
    channel = Grpc.newChannelBuilder("xds:///greeter", InsecureChannelCredentials.create()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    org.awaitility.Awaitility.reset();
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (LodestarClient c : owners.values()) {
      c.close();
    }
    for (Greeter g : backends.values()) {
      g.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  @Order(1)
  void callsSpreadOverTheThreeBackends() {
    await().untilAsserted(() -> assertThat(calls(60, Map.of())).containsOnlyKeys("b1", "b2", "b3"));
    Map<String, Integer> seen = calls(300, Map.of());
    assertThat(seen).containsOnlyKeys("b1", "b2", "b3");
    assertThat(seen.values()).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(50));
  }

  @Test
  @Order(2)
  void aDeregisteredBackendStopsGettingCalls() {
    await().untilAsserted(() -> assertThat(calls(30, Map.of())).containsKey("b3"));
    owners.remove("b3").deregister("default", "greeter", "b3");
    await().atMost(PUSH).untilAsserted(() -> assertThat(calls(30, Map.of())).containsOnlyKeys("b1", "b2"));
  }

  @Test
  @Order(3)
  void aNewBackendGetsCalls() throws Exception {
    register("b4", "v2");
    await().atMost(PUSH).untilAsserted(() -> assertThat(calls(30, Map.of())).containsKey("b4"));
    assertThat(calls(60, Map.of())).containsOnlyKeys("b1", "b2", "b4");
  }

  @Test
  @Order(4)
  void aHeaderMatchedRouteSendsMatchingCallsToV2Only() throws Exception {
    putCanaryRules();
    await().untilAsserted(() -> assertThat(calls(20, Map.of("x-version", "v2"))).containsOnlyKeys("b4"));
    assertThat(calls(200, Map.of("x-version", "v2"))).containsOnlyKeys("b4");
    // calls without the header still reach v1 too
    assertThat(calls(50, Map.of())).containsKeys("b1", "b2");
  }

  @Test
  @Order(5)
  void anEightyTwentyRouteByVersionGivesTwentyPercentToV2() throws Exception {
    putCanaryRules();
    // the header route rides in the same RouteConfiguration: once it holds, so does the split
    await().untilAsserted(() -> assertThat(calls(20, Map.of("x-version", "v2"))).containsOnlyKeys("b4"));
    Map<String, Integer> seen = calls(2000, Map.of());
    double v2 = seen.getOrDefault("b4", 0) / 2000.0;
    assertThat(v2).isBetween(0.16, 0.24);
    assertThat(seen).containsOnlyKeys("b1", "b2", "b4");
  }

  @Test
  @Order(6)
  void ringHashKeepsAKeyOnOneBackend() throws Exception {
    send("DELETE", "/v1/namespaces/default/services/greeter/rules/route", null);
    send("PUT", "/v1/namespaces/default/services/greeter/rules/circuitbreaker", "{\"disabled\":true}");
    send("PUT", "/v1/namespaces/default/services/greeter/rules/loadbalance",
        "{\"policy\":\"ring_hash\",\"hashHeader\":\"x-user\"}");
    // The breaker off, hence no outlier_detection: grpc-java 1.85 stalled ring-hash calls with it
    // (docs/xds.md). A new channel, so that the test does not depend on a live policy switch.
    ManagedChannel ring = Grpc.newChannelBuilder("xds:///greeter", InsecureChannelCredentials.create()).build();
    try {
      // round robin would spread these; only the ring keeps one key on one backend
      await("ring hash in force").untilAsserted(() ->
          assertThat(calls(ring, 30, Map.of("x-user", "alice"))).hasSize(1));
      for (String user : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
        assertThat(calls(ring, 40, Map.of("x-user", user))).as(user).hasSize(1);
      }
    } finally {
      ring.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      send("DELETE", "/v1/namespaces/default/services/greeter/rules/loadbalance", null);
      send("DELETE", "/v1/namespaces/default/services/greeter/rules/circuitbreaker", null);
    }
  }

  @Test
  @Order(7)
  void theClientSurvivesAServerRestartAndPicksUpChangesMadeWhileItWasAway() throws Exception {
    server.close();
    // the client keeps calling with what it has
    assertThat(calls(30, Map.of())).containsOnlyKeys("b1", "b2", "b4");
    // while it is away, the state changes: another node on the same data routes everything to v2
    LodestarServer other = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(data.resolve("server"))
        .build().start();
    try {
      sendTo(other.port(), "PUT", "/v1/namespaces/default/services/greeter/rules/route",
          "{\"rules\":[{\"name\":\"all-v2\",\"destinations\":[{\"subset\":{\"version\":\"v2\"}}]}]}");
    } finally {
      other.close();
    }
    server = LodestarServer.builder().bind("127.0.0.1").port(port).dataDir(data.resolve("server")).build().start();
    // reconnection waits for grpc-xds' backoff, not for a change: allow for it
    await().atMost(Duration.ofSeconds(40))
        .untilAsserted(() -> assertThat(calls(20, Map.of())).containsOnlyKeys("b4"));
  }

  private static void putCanaryRules() throws Exception {
    send("PUT", "/v1/namespaces/default/services/greeter/rules/route", """
        {"rules": [
          {"name": "v2-by-header", "match": {"headers": {"x-version": {"exact": "v2"}}},
           "destinations": [{"subset": {"version": "v2"}}]},
          {"name": "canary", "destinations": [{"subset": {"version": "v1"}, "weight": 80},
                                              {"subset": {"version": "v2"}, "weight": 20}]}
        ]}""");
  }

  private static Map<String, Integer> calls(int n, Map<String, String> headers) {
    return calls(channel, n, headers);
  }

  private static Map<String, Integer> calls(ManagedChannel channel, int n, Map<String, String> headers) {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < n; i++) {
      try {
        seen.merge(Greeter.call(channel, headers), 1, Integer::sum);
      } catch (io.grpc.StatusRuntimeException e) {
        // an assertion, so that a wait that gives up says how the calls failed
        throw new AssertionError("call " + i + " with " + headers + " failed after " + seen + ": " + e.getStatus(), e);
      }
    }
    return seen;
  }

  private static void register(String name, String version) throws Exception {
    Greeter g = new Greeter(name);
    backends.put(name, g);
    LodestarClient owner = LodestarClient.builder().servers("127.0.0.1:" + port)
        .cacheDir(data.resolve("cache-" + name))
        // generous: CI machines are shared, and a slow answer is not what this test is about
        .connectTimeout(Duration.ofSeconds(15)).requestTimeout(Duration.ofSeconds(15)).build();
    owners.put(name, owner);
    owner.register(RegistrationSpec.builder().service("greeter").host("127.0.0.1").port(g.port()).id(name)
        .putMetadata("version", version).protocol("grpc").build());
  }

  private static void send(String method, String path, String body) throws Exception {
    sendTo(port, method, path, body);
  }

  private static void sendTo(int port, String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
  }
}
