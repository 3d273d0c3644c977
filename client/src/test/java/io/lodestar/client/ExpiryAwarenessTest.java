package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.LodestarServer;
import io.lodestar.server.naming.ExpiryProtection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the SDK shows and does when instances lose their leases (issue 12 #5): a list emptied by
 * expiry alone is held, and says so; a server protecting instances from mass expiry says so in
 * the client's status. A real server whose health runs on a manual clock, and the real SDK.
 */
class ExpiryAwarenessTest {
  @TempDir static Path dir;
  static final AtomicLong clock = new AtomicLong();
  static LodestarServer server;
  static LodestarClient client;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dir).nanoClock(clock::get)
        .expiryProtection(new ExpiryProtection(0.5, TimeUnit.SECONDS.toNanos(60), 3)).build().start();
    client = LodestarClient.builder().servers("127.0.0.1:" + server.port()).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void aListEmptiedByExpiryAloneIsHeldAndSaysSo() {
    String base = "/v1/namespaces/default/services/lonely/instances";
    assertThat(send("POST", base, "{\"id\":\"solo\",\"host\":\"10.0.0.1\",\"port\":80,\"ttlSeconds\":10}"))
        .isEqualTo(201);
    await().atMost(Duration.ofSeconds(30)).until(() -> ids(client.snapshot("default", "lonely")).equals(List.of("solo")));

    // its client falls silent: unhealthy after a TTL, removed after three (one instance: no mass expiry)
    advance(Duration.ofSeconds(11));
    advance(Duration.ofSeconds(20));
    assertThat(send("GET", base, null)).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.snapshot("default", "lonely").expiryHeld());
    ServiceSnapshot held = client.snapshot("default", "lonely");
    assertThat(ids(held)).as("the last list, held").containsExactly("solo");

    // an instance arrives: the server's list again, no longer held
    assertThat(send("POST", base, "{\"id\":\"fresh\",\"host\":\"10.0.0.2\",\"port\":80,\"ttlSeconds\":10}"))
        .isEqualTo(201);
    await().atMost(Duration.ofSeconds(30)).until(() -> ids(client.snapshot("default", "lonely")).equals(List.of("fresh")));
    assertThat(client.snapshot("default", "lonely").expiryHeld()).isFalse();

    // a deregistration empties the list for real
    assertThat(send("DELETE", base + "/fresh", null)).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.snapshot("default", "lonely").instances().isEmpty());
    assertThat(client.snapshot("default", "lonely").expiryHeld()).isFalse();
  }

  @Test
  void theClientStatusShowsAServerProtectingInstancesFromExpiry() {
    assertThat(send("POST", "/v1/namespaces", "{\"name\":\"mass\"}")).isEqualTo(201);
    String base = "/v1/namespaces/mass/services/orders/instances";
    for (String id : List.of("a", "b", "c", "d")) {
      assertThat(send("POST", base, "{\"id\":\"" + id + "\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":10}"))
          .isEqualTo(201);
    }
    assertThat(client.status().serverHealth().isUp()).isTrue();
    // 'a' keeps beating; b, c, d fall silent together: 3 of 4 would expire in one window
    for (int n = 0; n < 8; n++) {
      advance(Duration.ofSeconds(5));
      send("PUT", base + "/a/heartbeat", "");
    }
    advance(Duration.ZERO);
    // told at the SDK's next heartbeat (every 3 s)
    await().atMost(Duration.ofSeconds(30)).until(() -> !client.status().serverHealth().expiryProtection().isEmpty());
    ClientStatus.ServerHealth h = client.status().serverHealth();
    assertThat(h.status()).isEqualTo("DEGRADED");
    assertThat(h.isUp()).isFalse();
    // the instances stay listed, marked unhealthy
    assertThat(ids(client.snapshot("mass", "orders"))).containsExactly("a", "b", "c", "d");

    for (String id : List.of("b", "c", "d")) {
      send("PUT", base + "/" + id + "/heartbeat", "");
    }
    advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(30)).until(() -> client.status().serverHealth().isUp());
    for (String id : List.of("a", "b", "c", "d")) {
      send("DELETE", base + "/" + id, null);
    }
  }

  /** Moves the health clock on and runs one scan; its transitions are applied when this returns. */
  private static void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    server.scanHealth();
  }

  private static List<String> ids(ServiceSnapshot s) {
    return s.instances().stream().map(Instance::id).toList();
  }

  private static int send(String method, String path, String body) {
    try {
      HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
          .header("Content-Type", "application/json").build();
      return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
