package io.lodestar.examples.orders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.examples.payments.PaymentsApplication;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The two example applications, unchanged, against a real Lodestar server: two payments instances
 * (v1, v2) and one orders, each a real Spring Boot context on a free loopback port, started once
 * for the class. orders only knows payments by name.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OrdersPaymentsIntegrationTest {
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static ConfigurableApplicationContext paymentsV1;
  static ConfigurableApplicationContext paymentsV2;
  static ConfigurableApplicationContext orders;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    lodestar = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    paymentsV1 = payments("v1");
    paymentsV2 = payments("v2");
    orders = OrdersApplication.builder().run(common());
  }

  static String[] common(String... more) {
    List<String> args = new ArrayList<>(List.of("--server.port=0", "--lodestar.server=127.0.0.1:" + lodestar.port(),
        "--management.endpoints.web.exposure.include=health",
        // the test machine may be busy: generous first-lookup timeouts
        "--lodestar.connect-timeout=10s", "--lodestar.request-timeout=30s"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  static ConfigurableApplicationContext payments(String version) {
    return PaymentsApplication.builder().run(common("--lodestar.discovery.metadata.version=" + version));
  }

  @AfterAll
  static void stop() {
    for (ConfigurableApplicationContext c : new ConfigurableApplicationContext[] {orders, paymentsV1, paymentsV2}) {
      if (c != null) {
        c.close();
      }
    }
    lodestar.close();
  }

  static int port(ConfigurableApplicationContext ctx) {
    return ((WebServerApplicationContext) ctx).getWebServer().getPort();
  }

  static HttpResponse<String> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String lodestarUrl(String path) {
    return "http://127.0.0.1:" + lodestar.port() + path;
  }

  /** One order; the port and version of the payments instance that served it, or null on failure. */
  static JsonNode order(String... headers) throws Exception {
    HttpResponse<String> r = get("http://127.0.0.1:" + port(orders) + "/order", headers);
    return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
  }

  static int put(String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(lodestarUrl(path))).PUT(HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  @Order(1)
  void bothAppsStartAndRegisterOnTheirOwnAddressAndPort() throws Exception {
    JsonNode payments = JSON.readTree(get(lodestarUrl("/v1/namespaces/default/services/payments/instances")).body());
    Set<String> ids = new HashSet<>();
    payments.path("instances").forEach(i -> ids.add(i.path("host").asText() + ":" + i.path("port").asInt()));
    assertThat(ids).containsExactlyInAnyOrder("127.0.0.1:" + port(paymentsV1), "127.0.0.1:" + port(paymentsV2));
    JsonNode o = JSON.readTree(get(lodestarUrl("/v1/namespaces/default/services/orders/instances")).body());
    assertThat(o.path("instances")).hasSize(1);
    assertThat(o.path("instances").get(0).path("port").asInt()).isEqualTo(port(orders));
    assertThat(o.path("instances").get(0).path("metadata").path("zone").asText()).isEqualTo("local");
    JsonNode health = JSON.readTree(get("http://127.0.0.1:" + port(orders) + "/actuator/health").body());
    assertThat(health.path("components").path("lodestar").path("status").asText()).isEqualTo("UP");
  }

  @Test
  @Order(2)
  void ordersReachesPaymentsByNameAcrossTwoInstances() throws Exception {
    Set<Integer> served = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      JsonNode r = order();
      assertThat(r).isNotNull();
      assertThat(r.path("greeting").asText()).isEqualTo("hello");
      served.add(r.path("payment").path("port").asInt());
    }
    assertThat(served).containsExactlyInAnyOrder(port(paymentsV1), port(paymentsV2));
  }

  @Test
  @Order(3)
  void aRouteRuleSendingTheCanaryHeaderToV2IsObeyed() throws Exception {
    assertThat(put("/v1/namespaces/default/services/payments/rules/route", "{\"rules\":[{\"name\":\"canary\","
        + "\"match\":{\"headers\":{\"x-canary\":{\"exact\":\"1\"}}},\"destinations\":[{\"subset\":{\"version\":\"v2\"}}]}]}"))
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      for (int i = 0; i < 20; i++) {
        if (!"v2".equals(order("x-canary", "1").path("payment").path("version").asText())) {
          return false;
        }
      }
      return true;
    });
    for (int i = 0; i < 40; i++) {
      assertThat(order("x-canary", "1").path("payment").path("version").asText()).isEqualTo("v2");
    }
    Set<String> without = new HashSet<>();
    for (int i = 0; i < 40; i++) {
      without.add(order().path("payment").path("version").asText());
    }
    assertThat(without).containsExactlyInAnyOrder("v1", "v2");
    HTTP.send(HttpRequest.newBuilder(URI.create(lodestarUrl("/v1/namespaces/default/services/payments/rules/route")))
        .DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Order(4)
  void publishingTheConfigChangesTheGreetingWithoutARestart() throws Exception {
    assertThat(put("/v1/namespaces/default/configs/orders/orders.properties",
        "orders.greeting=hello from lodestar\n")).isEqualTo(200);
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> order().path("greeting").asText().equals("hello from lodestar"));
    System.out.printf("greeting refreshed %d ms after the publish%n", (System.nanoTime() - t0) / 1_000_000);
  }

  @Test
  @Order(5)
  void stoppingOnePaymentsInstanceLosesNoCallBeyondTheOneInFlight() throws Exception {
    ConfigurableApplicationContext extra = payments("v1");
    int extraPort = port(extra);
    await().atMost(Duration.ofSeconds(30)).until(() -> order().path("payment").path("port").asInt() == extraPort);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Thread caller = new Thread(() -> {
      while (running.get()) {
        try {
          (order() != null ? ok : failed).incrementAndGet();
        } catch (Exception e) {
          failed.incrementAndGet();
        }
      }
    });
    caller.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() >= 20);
    extra.close();  // graceful: deregister, drain, stop the web server
    int afterStop = ok.get();
    await().atMost(Duration.ofSeconds(30)).until(() -> ok.get() >= afterStop + 50);
    running.set(false);
    caller.join();
    assertThat(failed.get()).isLessThanOrEqualTo(1);
  }

  @Test
  @Order(6)
  void anInstanceThatStartsFailingIsAvoidedByBreakers() throws Exception {
    paymentsV1.getBean(PaymentsApplication.class).setFailing(true);
    int failures = 0;
    for (int i = 0; i < 100; i++) {
      if (order() == null) {
        failures++;
      }
    }
    // the default instance breaker takes hard failures only: it opens after 20 consecutive 5xx
    assertThat(failures).isBetween(5, 25);
    for (int i = 0; i < 60; i++) {
      JsonNode r = order();
      assertThat(r).isNotNull();
      assertThat(r.path("payment").path("port").asInt()).isEqualTo(port(paymentsV2));
    }
  }
}
