package io.lodestar.compat.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * An unchanged Spring Boot app with Spring Cloud Consul 4.3.0 (config + discovery), pointed at
 * Lodestar: it starts, reads a property from KV (and sees it change), registers and heartbeats,
 * discovers another service, reports consul UP in its actuator health, and deregisters on shutdown.
 */
class SpringCloudConsulTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final ObjectMapper JSON = new ObjectMapper();

  @SpringBootApplication
  static class DemoApp {}

  @BeforeAll
  static void start() throws Exception {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    // the property the app reads, where Spring Cloud Consul looks: config/<application name>/<property>
    send("PUT", "/v1/kv/config/consul-demo/greeting", "hello from lodestar");
    // another service, registered through Lodestar's own API
    send("POST", "/v1/namespaces/default/services/backend/instances",
        "{\"id\":\"backend-1\",\"host\":\"127.0.0.1\",\"port\":9501,\"ephemeral\":false,\"metadata\":{\"zone\":\"a\"}}");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String send(String method, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  static Instance registered() {
    ServiceView v = server.stateMachine().registry().view("default", "consul-demo");
    return v == null || v.instances().isEmpty() ? null : v.instances().get(0);
  }

  @Test
  void aSpringCloudConsulAppRunsOnLodestar() throws Exception {
    ConfigurableApplicationContext app = new SpringApplicationBuilder(DemoApp.class).run(
        "--spring.application.name=consul-demo",
        "--server.port=0",
        "--spring.config.import=optional:consul:",
        "--spring.cloud.consul.host=127.0.0.1",
        "--spring.cloud.consul.port=" + server.port(),
        "--spring.cloud.consul.config.watch.wait-time=2",
        "--spring.cloud.consul.discovery.instance-id=consul-demo-1",
        "--spring.cloud.consul.discovery.prefer-ip-address=true",
        "--spring.cloud.consul.discovery.ip-address=127.0.0.1",
        "--spring.cloud.consul.discovery.heartbeat.enabled=true",
        "--spring.cloud.consul.discovery.heartbeat.ttl=3s",
        "--spring.cloud.consul.discovery.catalog-services-watch-timeout=2",
        "--management.endpoints.web.exposure.include=health",
        "--management.endpoint.health.show-details=always");
    try {
      assertThat(app.isRunning()).isTrue();
      // reads a property from KV
      assertThat(app.getEnvironment().getProperty("greeting")).isEqualTo("hello from lodestar");

      // registers itself with a TTL check (it starts critical) and heartbeats it to passing
      await().atMost(Duration.ofSeconds(30)).until(() -> registered() != null
          && registered().getHealth() == HealthStatus.HEALTHY);
      Instance self = registered();
      assertThat(self.getId()).isEqualTo("consul-demo-1");
      assertThat(self.getEphemeral()).isTrue();
      assertThat(self.getPort()).isEqualTo(Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
      // still passing after more than one TTL: the heartbeats keep coming
      await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
          .until(() -> registered() != null && registered().getHealth() == HealthStatus.HEALTHY);

      // discovers another service
      List<ServiceInstance> backends = app.getBean(DiscoveryClient.class).getInstances("backend");
      assertThat(backends).hasSize(1);
      assertThat(backends.get(0).getHost()).isEqualTo("127.0.0.1");
      assertThat(backends.get(0).getPort()).isEqualTo(9501);
      assertThat(backends.get(0).getMetadata()).containsEntry("zone", "a");
      assertThat(app.getBean(DiscoveryClient.class).getServices()).contains("backend", "consul-demo");

      // a change to the key reaches the running app: its config watch (a blocking KV read) sees
      // the index move and refreshes the environment
      send("PUT", "/v1/kv/config/consul-demo/greeting", "hello again");
      await().atMost(Duration.ofSeconds(60))
          .until(() -> "hello again".equals(app.getEnvironment().getProperty("greeting")));

      // its actuator's consul health is UP
      String port = app.getEnvironment().getProperty("local.server.port");
      JsonNode health = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/actuator/health")).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertThat(health.at("/components/consul/status").asText()).isEqualTo("UP");
    } finally {
      app.close();
    }
    // deregisters on shutdown
    assertThat(registered()).isNull();
  }
}
