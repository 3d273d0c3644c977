package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Heartbeat TTLs, active probes and the protection threshold, against a real server. */
class HealthTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static final String BASE = "/v1/namespaces/default/services/";

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonNode instance(String svc, String id) {
    for (JsonNode i : http.get(BASE + svc + "/instances").json().get("instances")) {
      if (i.get("id").asText().equals(id)) {
        return i;
      }
    }
    return null;
  }

  @Test
  void silentEphemeralInstanceTurnsUnhealthyThenIsRemoved() {
    http.post(BASE + "ttl/instances", "{\"id\":\"quiet\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":1}");
    await().atMost(Duration.ofSeconds(30)).until(() -> "UNHEALTHY".equals(instance("ttl", "quiet").get("health").asText()));
    await().atMost(Duration.ofSeconds(30)).until(() -> instance("ttl", "quiet") == null);
  }

  @Test
  void heartbeatsKeepAnInstanceAliveAndRevive() {
    http.post(BASE + "beat/instances", "{\"id\":\"alive\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":1}");
    http.post(BASE + "beat/instances", "{\"id\":\"quiet\",\"host\":\"h\",\"port\":2,\"ttlSeconds\":1}");
    // 'quiet' going unhealthy shows time has passed; 'alive', heartbeating all along, must still be healthy
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      assertThat(http.put(BASE + "beat/instances/alive/heartbeat", "").status()).isEqualTo(200);
      JsonNode q = instance("beat", "quiet");
      return q == null || "UNHEALTHY".equals(q.get("health").asText());
    });
    assertThat(instance("beat", "alive").get("health").asText()).isEqualTo("HEALTHY");
    // an unhealthy instance that heartbeats again recovers
    JsonNode q = instance("beat", "quiet");
    if (q != null) {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
        http.put(BASE + "beat/instances/quiet/heartbeat", "");
        JsonNode now = instance("beat", "quiet");
        return now == null || "HEALTHY".equals(now.get("health").asText());
      });
    }
  }

  @Test
  void tcpProbeMarksButNeverRemovesPersistentInstances() throws Exception {
    ServerSocket listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    int port = listener.getLocalPort();
    http.post(BASE + "db/instances", "{\"id\":\"db1\",\"host\":\"127.0.0.1\",\"port\":" + port
        + ",\"ephemeral\":false,\"check\":{\"type\":\"tcp\",\"intervalSeconds\":1,\"timeoutSeconds\":1}}");
    assertThat(instance("db", "db1").get("health").asText()).isEqualTo("HEALTHY");
    listener.close();
    await().atMost(Duration.ofSeconds(30)).until(() -> "UNHEALTHY".equals(instance("db", "db1").get("health").asText()));
    // reopen the same port: the probe brings it back
    try (ServerSocket again = new ServerSocket()) {
      again.setReuseAddress(true);
      again.bind(new InetSocketAddress("127.0.0.1", port));
      await().atMost(Duration.ofSeconds(30)).until(() -> "HEALTHY".equals(instance("db", "db1").get("health").asText()));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> "UNHEALTHY".equals(instance("db", "db1").get("health").asText()));
    assertThat(instance("db", "db1")).as("persistent instances are never removed").isNotNull();
  }

  @Test
  void httpProbeExpects2xx() throws Exception {
    AtomicInteger status = new AtomicInteger(200);
    HttpServer app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    app.createContext("/ready", ex -> {
      ex.sendResponseHeaders(status.get(), -1);
      ex.close();
    });
    app.start();
    try {
      http.post(BASE + "web/instances", "{\"id\":\"w1\",\"host\":\"127.0.0.1\",\"port\":" + app.getAddress().getPort()
          + ",\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/ready\",\"intervalSeconds\":1}}");
      status.set(503);
      await().atMost(Duration.ofSeconds(30)).until(() -> "UNHEALTHY".equals(instance("web", "w1").get("health").asText()));
      status.set(204);
      await().atMost(Duration.ofSeconds(30)).until(() -> "HEALTHY".equals(instance("web", "w1").get("health").asText()));
    } finally {
      app.stop(0);
    }
  }

  private static int closedPort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void protectionThresholdNeverEmptiesTheHealthyList() throws Exception {
    int closedPort = closedPort();
    // unhealthy for good: persistent instances probed on a port nobody listens on (never removed)
    String down = ",\"host\":\"127.0.0.1\",\"port\":" + closedPort
        + ",\"ephemeral\":false,\"check\":{\"type\":\"tcp\",\"intervalSeconds\":1,\"timeoutSeconds\":1}}";
    http.post(BASE + "prot/instances", "{\"id\":\"up\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":3600}");
    http.post(BASE + "prot/instances", "{\"id\":\"down1\"" + down);
    http.post(BASE + "prot/instances", "{\"id\":\"down2\"" + down);
    await().atMost(Duration.ofSeconds(30)).until(() -> "UNHEALTHY".equals(instance("prot", "down2").get("health").asText())
        && "UNHEALTHY".equals(instance("prot", "down1").get("health").asText()));
    JsonNode healthy = http.get(BASE + "prot/instances?healthy=true").json();
    assertThat(healthy.get("protectionApplied").asBoolean()).isTrue();
    assertThat(healthy.get("instances")).hasSize(3);
    assertThat(healthy.get("instances").findValuesAsText("health")).contains("UNHEALTHY", "HEALTHY");

    // with protection off, only the healthy one
    http.put(BASE + "prot", "{\"protectThreshold\":1.0}");
    JsonNode strict = http.get(BASE + "prot/instances?healthy=true").json();
    assertThat(strict.get("protectionApplied").asBoolean()).isFalse();
    assertThat(strict.get("instances").findValuesAsText("id")).containsExactly("up");
  }
}
