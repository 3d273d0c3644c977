package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.client.governance.ErrorKind;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.governance.Outcome;
import io.lodestar.client.route.CallContext;
import io.lodestar.server.LodestarServer;
import io.lodestar.server.storage.ClusterConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Call statistics end to end on a three-node cluster: two SDKs (the same caller service) on two
 * different nodes report their calls; the third node, which no SDK talks to, answers the topology
 * and calls queries with both nodes' statistics merged. Also: per-edge Prometheus series, and a bad
 * window refused naming its parameter.
 */
class CallStatsIntegrationTest {
  // HTTP/1.1, as the server's own tests: the JDK client's default, an h2c upgrade (deprecated by RFC
  // 9113), once failed a poll here on JDK 17 with "EOF reached while reading", an h2c issue of that
  // client others see too (spring-cloud-gateway#3141); this test is about the call statistics.
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static final List<LodestarServer> nodes = new ArrayList<>();
  static final List<Integer> ports = new ArrayList<>();

  @BeforeAll
  static void cluster() throws Exception {
    for (int k = 0; k < 3; k++) {
      ports.add(freePortPair());
    }
    String spec = "n1=127.0.0.1:" + ports.get(0) + ",n2=127.0.0.1:" + ports.get(1) + ",n3=127.0.0.1:" + ports.get(2);
    for (int k = 0; k < 3; k++) {
      nodes.add(LodestarServer.builder().bind("127.0.0.1").port(ports.get(k)).dataDir(dir.resolve("n" + (k + 1)))
          .cluster(ClusterConfig.parse("n" + (k + 1), spec, 0, false)).build().start());
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().anyMatch(n -> n.raftLog().isLeaderReady()));
  }

  @AfterAll
  static void stop() {
    nodes.forEach(LodestarServer::close);
  }

  @Test
  void everyNodeAnswersWithTheWholeClustersCallsPerEdge() throws Exception {
    try (LodestarClient a = client(0); LodestarClient b = client(1);
        Governor ga = governor(a); Governor gb = governor(b)) {
      Instance p1 = a.register(RegistrationSpec.builder().service("payments").host("10.0.0.1").port(80).build());
      Instance p2 = a.register(RegistrationSpec.builder().service("payments").host("10.0.0.2").port(80).build());
      b.register(RegistrationSpec.builder().service("orders").host("10.0.0.9").port(80).build());
      CallContext pay = CallContext.builder().method("/pay").build();
      for (int i = 0; i < 40; i++) {
        ga.report(p1, pay, Outcome.SUCCESS, 2_000_000);         // 2 ms
        gb.report(p2, pay, Outcome.SUCCESS, 4_000_000);         // 4 ms
      }
      for (int i = 0; i < 10; i++) {
        gb.report(p2, pay, ErrorKind.TIMEOUT, 900_000_000);  // 900 ms, timed out
      }
      ga.flushCallStats();
      gb.flushCallStats();

      // node 3 heard from no SDK: what it shows came from n1 and n2
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        JsonNode t = get(2, "/v1/namespaces/default/topology?window=5m");
        assertThat(t.get("partial").asBoolean()).isFalse();
        JsonNode edge = only(t.get("edges"));
        assertThat(edge.get("caller").asText()).isEqualTo("orders");
        assertThat(edge.get("service").asText()).isEqualTo("payments");
        assertThat(edge.get("calls").asLong()).isEqualTo(90);
        assertThat(edge.get("errors").asLong()).isEqualTo(10);
        assertThat(edge.get("errorsByKind").get("timeout").asLong()).isEqualTo(10);
        assertThat(edge.get("errorRate").asDouble()).isBetween(0.11, 0.112);
        assertThat(edge.get("rps").asDouble()).isEqualTo(0.3);
        assertThat(edge.get("latencyMs").get("p50").asDouble()).isBetween(1.9, 4.1);
        assertThat(edge.get("latencyMs").get("p999").asDouble()).isBetween(890.0, 910.0);
        JsonNode paymentsNode = node(t, "payments");
        assertThat(paymentsNode.get("instances").asInt()).isEqualTo(2);
        assertThat(paymentsNode.get("health").asText()).isEqualTo("healthy");
        assertThat(node(t, "orders").get("instances").asInt()).isEqualTo(1);
      });

      JsonNode calls = get(2, "/v1/namespaces/default/services/orders/calls?window=10m");
      JsonNode callee = only(calls.get("callees"));
      assertThat(callee.get("service").asText()).isEqualTo("payments");
      assertThat(callee.get("calls").asLong()).isEqualTo(90);
      assertThat(callee.get("series")).isNotEmpty();
      JsonNode instances = callee.get("instances");
      assertThat(instances).hasSize(2);
      JsonNode second = instances.get(0).get("instance").asText().equals(p2.id()) ? instances.get(0) : instances.get(1);
      assertThat(second.get("calls").asLong()).isEqualTo(50);
      assertThat(second.get("errors").asLong()).isEqualTo(10);
      assertThat(only(second.get("methods")).get("method").asText()).isEqualTo("/pay");
      JsonNode callers = get(2, "/v1/namespaces/default/services/payments/calls").get("callers");
      assertThat(only(callers).get("caller").asText()).isEqualTo("orders");

      // per service edge on the node that received it, never per instance
      String metrics = text(1, "/metrics");
      assertThat(metrics).contains("lodestar_calls_total{caller=\"orders\",namespace=\"default\",service=\"payments\"} 50.0");
      assertThat(metrics).contains("lodestar_call_errors_total{caller=\"orders\",kind=\"timeout\",namespace=\"default\",service=\"payments\"} 10.0");
      assertThat(metrics).doesNotContain(p2.id());
    }
  }

  @Test
  void aBadWindowIsRefusedNamingItAndAnUnknownNamespaceIs404() throws Exception {
    for (String bad : List.of("5", "0m", "2d", "5s", "2h")) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(0)
          + "/v1/namespaces/default/topology?window=" + bad)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("error").get("field").asText()).isEqualTo("window");
    }
    // an unknown namespace is 404, as everywhere, not an empty topology that reads as "no traffic"
    for (String path : List.of("/v1/namespaces/nowhere/topology", "/v1/namespaces/nowhere/services/orders/calls")) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(0) + path))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(JSON.readTree(r.body()).get("error").get("code").asText()).isEqualTo("not_found");
    }
  }

  private static LodestarClient client(int node) {
    // a loaded CI machine and a young cluster: the first writes may take more than the default 5 s
    return LodestarClient.builder().servers("127.0.0.1:" + ports.get(node)).requestTimeout(Duration.ofSeconds(30)).build();
  }

  private static Governor governor(LodestarClient c) {
    return Governor.builder(c).callerService("orders").build();
  }

  private static JsonNode node(JsonNode topology, String service) {
    for (JsonNode n : topology.get("nodes")) {
      if (n.get("service").asText().equals(service)) {
        return n;
      }
    }
    throw new AssertionError("no node " + service + " in " + topology);
  }

  private static JsonNode only(JsonNode array) {
    assertThat(array).hasSize(1);
    return array.get(0);
  }

  private static JsonNode get(int node, String path) throws Exception {
    String body = text(node, path);
    return JSON.readTree(body);
  }

  private static String text(int node, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(node) + path))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  private static int freePortPair() throws IOException {
    while (true) {
      int p;
      try (ServerSocket s = new ServerSocket(0)) {
        p = s.getLocalPort();
      }
      try (ServerSocket raft = new ServerSocket(p + 1)) {
        return p;
      } catch (IOException e) {
        // taken: try another
      }
    }
  }
}
