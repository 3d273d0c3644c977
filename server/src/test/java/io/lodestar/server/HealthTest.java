package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heartbeat TTLs, active probes and the protection threshold, against a real server whose health
 * runs on a manual clock: the test moves time and runs a scan, instead of waiting out TTLs.
 */
class HealthTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static final AtomicLong clock = new AtomicLong();
  static final String BASE = "/v1/namespaces/default/services/";

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).nanoClock(clock::get).build().start();
    http = new Http(server.port());
  }

  /** Moves the health clock on and runs one scan; its transitions are applied when this returns. */
  private static void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    server.scanHealth();
  }

  /** Waits for a probe result, moving the clock a probe interval per poll so that probes come due. */
  private static void probed(java.util.concurrent.Callable<Boolean> condition) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      advance(Duration.ofSeconds(1));
      return condition.call();
    });
  }

  private static String health(String svc, String id) {
    JsonNode i = instance(svc, id);
    return i == null ? "absent" : i.get("health").asText();
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
    http.post(BASE + "ttl/instances", "{\"id\":\"quiet\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":10}");
    advance(Duration.ofSeconds(9));
    assertThat(health("ttl", "quiet")).isEqualTo("HEALTHY");
    advance(Duration.ofSeconds(2)); // 11 s: past one TTL
    assertThat(health("ttl", "quiet")).isEqualTo("UNHEALTHY");
    advance(Duration.ofSeconds(20)); // 31 s: past three
    assertThat(health("ttl", "quiet")).isEqualTo("absent");
  }

  @Test
  void heartbeatsKeepAnInstanceAliveAndRevive() {
    http.post(BASE + "beat/instances", "{\"id\":\"alive\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":10}");
    http.post(BASE + "beat/instances", "{\"id\":\"quiet\",\"host\":\"h\",\"port\":2,\"ttlSeconds\":10}");
    for (int n = 0; n < 3; n++) {
      advance(Duration.ofSeconds(6));
      assertThat(http.put(BASE + "beat/instances/alive/heartbeat", "").status()).isEqualTo(200);
    }
    advance(Duration.ZERO);
    // 18 s: 'quiet' is past its TTL; 'alive', heartbeating every 6 s, is not
    assertThat(health("beat", "quiet")).isEqualTo("UNHEALTHY");
    assertThat(health("beat", "alive")).isEqualTo("HEALTHY");
    // an unhealthy instance that heartbeats again is healthy at the next scan
    assertThat(http.put(BASE + "beat/instances/quiet/heartbeat", "").status()).isEqualTo(200);
    advance(Duration.ofSeconds(1));
    assertThat(health("beat", "quiet")).isEqualTo("HEALTHY");
    // leave no leases behind for the other tests' clock moves
    http.delete(BASE + "beat/instances/alive");
    http.delete(BASE + "beat/instances/quiet");
  }

  /**
   * Mass-expiry protection: when most of a namespace's leases would expire at once (clients cut
   * off from the server, not dead), removal pauses; the instances stay, marked unhealthy, and
   * /health says why. Heartbeats coming back lift it.
   */
  @Test
  void massExpiryPausesRemovalAndHeartbeatsLiftIt() {
    assertThat(http.post("/v1/namespaces", "{\"name\":\"mass\"}").status()).isEqualTo(201);
    String base = "/v1/namespaces/mass/services/";
    for (String id : List.of("a", "b", "c", "d")) {
      assertThat(http.post(base + "orders/instances", "{\"id\":\"" + id + "\",\"host\":\"h\",\"port\":1,"
          + "\"ttlSeconds\":10}").status()).isEqualTo(201);
    }
    // 'a' keeps beating; b, c, d fall silent together: 3 of 4 would expire in one window
    for (int n = 0; n < 8; n++) {
      advance(Duration.ofSeconds(5));
      http.put(base + "orders/instances/a/heartbeat", "");
    }
    advance(Duration.ZERO);
    JsonNode list = http.get(base + "orders/instances").json();
    assertThat(list.get("instances").findValuesAsText("id")).containsExactlyInAnyOrder("a", "b", "c", "d");
    assertThat(list.get("instances").findValuesAsText("health")).containsOnly("HEALTHY", "UNHEALTHY");
    JsonNode health = http.get("/health").json();
    assertThat(health.get("status").asText()).isEqualTo("DEGRADED");
    assertThat(health.get("expiryProtection").asText()).contains("mass");
    assertThat(http.get("/metrics").body()).contains("lodestar_expiry_protection 1.0");

    // the clients come back: heartbeats revive them and protection lifts
    for (String id : List.of("b", "c", "d")) {
      http.put(base + "orders/instances/" + id + "/heartbeat", "");
    }
    advance(Duration.ofSeconds(1));
    assertThat(http.get(base + "orders/instances").json().get("instances").findValuesAsText("health"))
        .containsOnly("HEALTHY");
    assertThat(http.get("/health").json().get("status").asText()).isEqualTo("UP");
    for (String id : List.of("a", "b", "c", "d")) {
      http.delete(base + "orders/instances/" + id);
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
    probed(() -> "UNHEALTHY".equals(instance("db", "db1").get("health").asText()));
    // reopen the same port: the probe brings it back
    try (ServerSocket again = new ServerSocket()) {
      again.setReuseAddress(true);
      again.bind(new InetSocketAddress("127.0.0.1", port));
      probed(() -> "HEALTHY".equals(instance("db", "db1").get("health").asText()));
    }
    probed(() -> "UNHEALTHY".equals(instance("db", "db1").get("health").asText()));
    assertThat(instance("db", "db1")).as("persistent instances are never removed").isNotNull();
  }

  @Test
  void httpProbeExpects2xx() throws Exception {
    AtomicInteger status = new AtomicInteger(200);
    java.util.Queue<String> upgrades = new java.util.concurrent.ConcurrentLinkedQueue<>();
    HttpServer app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    app.createContext("/ready", ex -> {
      upgrades.add(ex.getProtocol() + " " + ex.getRequestHeaders().getOrDefault("Upgrade", List.of()));
      ex.sendResponseHeaders(status.get(), -1);
      ex.close();
    });
    app.start();
    try {
      http.post(BASE + "web/instances", "{\"id\":\"w1\",\"host\":\"127.0.0.1\",\"port\":" + app.getAddress().getPort()
          + ",\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/ready\",\"intervalSeconds\":1}}");
      status.set(503);
      probed(() -> "UNHEALTHY".equals(instance("web", "w1").get("health").asText()));
      status.set(204);
      probed(() -> "HEALTHY".equals(instance("web", "w1").get("health").asText()));
      // plain HTTP/1.1, as Consul's checks: an app's server is never offered an h2c upgrade
      assertThat(upgrades).isNotEmpty().allMatch(p -> p.equals("HTTP/1.1 []"), "no Upgrade header");
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
    probed(() -> "UNHEALTHY".equals(instance("prot", "down2").get("health").asText())
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
