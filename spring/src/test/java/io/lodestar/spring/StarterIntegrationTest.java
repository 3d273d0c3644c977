package io.lodestar.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.ReactiveDiscoveryClient;
import org.springframework.cloud.context.config.annotation.RefreshScope;
import org.springframework.cloud.context.scope.refresh.RefreshScopeRefreshedEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;

/**
 * The starter in real Spring Boot contexts against a real Lodestar server: config import, refresh
 * ({@code @RefreshScope} and {@code @ConfigurationProperties}), gray by metadata labels, a version
 * that does not parse, the disabled switch, registration on the bound address, deregistration at
 * shutdown, discovery metadata and health. Two contexts for the class: {@code a} carries the gray
 * label {@code ring=canary}, {@code b} does not.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StarterIntegrationTest {
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static ConfigurableApplicationContext a;
  static ConfigurableApplicationContext b;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @SpringBootApplication
  @EnableConfigurationProperties(TestApp.Demo.class)
  static class TestApp {
    final AtomicInteger refreshes = new AtomicInteger();

    @ConfigurationProperties("demo")
    static class Demo {
      private String message = "unset";

      public String getMessage() {
        return message;
      }

      public void setMessage(String message) {
        this.message = message;
      }
    }

    /** Rebuilt on refresh: holds the value it was built with. */
    public static class Scoped {
      private final String message;

      Scoped(String message) {
        this.message = message;
      }

      /** Through a method: the bean is a scoped proxy, whose own fields are empty. */
      public String message() {
        return message;
      }
    }

    @Bean
    @RefreshScope
    Scoped scoped(@Value("${demo.message:unset}") String message) {
      return new Scoped(message);
    }

    @EventListener
    void onRefresh(RefreshScopeRefreshedEvent e) {
      refreshes.incrementAndGet();
    }
  }

  static ConfigurableApplicationContext app(String name, String... more) {
    List<String> args = new ArrayList<>(List.of("--spring.application.name=" + name, "--server.port=0",
        "--server.address=127.0.0.1", "--lodestar.server=127.0.0.1:" + lodestar.port(),
        "--lodestar.discovery.deregister-delay=0s",
        "--lodestar.connect-timeout=10s", "--lodestar.request-timeout=30s", "--spring.config.name=starter-test-none",
        "--spring.main.banner-mode=off"));
    args.addAll(List.of(more));
    return new SpringApplicationBuilder(TestApp.class).run(args.toArray(String[]::new));
  }

  @BeforeAll
  static void start() throws Exception {
    lodestar = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    assertThat(publish("app.yaml", "", "demo:\n  message: one\n")).isEqualTo(200);
    a = app("starter-a", "--spring.config.import=lodestar:app/app.yaml",
        "--lodestar.discovery.metadata.ring=canary", "--lodestar.discovery.metadata.zone=z1",
        "--lodestar.discovery.metadata.version=2.0", "--lodestar.discovery.weight=7");
    b = app("starter-b", "--spring.config.import=lodestar:app/app.yaml,optional:lodestar:app/absent.yaml");
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
    lodestar.close();
  }

  static int publish(String name, String query, String content) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lodestar.port()
        + "/v1/namespaces/default/configs/app/" + name + query)).PUT(HttpRequest.BodyPublishers.ofString(content))
        .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  static int post(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lodestar.port() + path))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  static String demo(ConfigurableApplicationContext ctx) {
    return ctx.getBean(TestApp.Demo.class).getMessage();
  }

  static String scoped(ConfigurableApplicationContext ctx) {
    return ctx.getBean(TestApp.Scoped.class).message();
  }

  /** host:port of each instance of a service, as the server lists them. */
  static List<String> instances(String service) throws Exception {
    String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lodestar.port()
        + "/v1/namespaces/default/services/" + service + "/instances")).build(), HttpResponse.BodyHandlers.ofString())
        .body();
    List<String> out = new ArrayList<>();
    new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).path("instances")
        .forEach(i -> out.add(i.path("host").asText() + ":" + i.path("port").asInt()));
    return out;
  }

  @Test
  @Order(1)
  void importsTheConfigAtStart() {
    assertThat(a.getEnvironment().getProperty("demo.message")).isEqualTo("one");
    assertThat(demo(a)).isEqualTo("one");
    assertThat(scoped(a)).isEqualTo("one");
    assertThat(demo(b)).isEqualTo("one");
    assertThat(b.getEnvironment().getProperty("spring.cloud.loadbalancer.cache.enabled")).isEqualTo("false");
  }

  @Test
  @Order(2)
  void aPublishedChangeRefreshesScopedBeansAndRebindsProperties() throws Exception {
    assertThat(publish("app.yaml", "", "demo:\n  message: two\n")).isEqualTo(200);
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
        .until(() -> demo(a).equals("two") && scoped(a).equals("two") && demo(b).equals("two"));
    System.out.printf("config refreshed in both apps %d ms after the publish%n", (System.nanoTime() - t0) / 1_000_000);
  }

  @Test
  @Order(3)
  void aVersionThatDoesNotParseNeverReplacesTheLastGoodOne() throws Exception {
    int before = a.getBean(TestApp.class).refreshes.get();
    // text format: the server stores it as is; as YAML it does not parse
    assertThat(publish("app.yaml", "?format=text", "demo: [unclosed\n")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> a.getBean(TestApp.class).refreshes.get() > before);
    assertThat(demo(a)).isEqualTo("two");
    assertThat(scoped(a)).isEqualTo("two");
    assertThat(a.getEnvironment().getProperty("demo.message")).isEqualTo("two");
    assertThat(publish("app.yaml", "?format=yaml", "demo:\n  message: three\n")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> demo(a).equals("three") && demo(b).equals("three"));
  }

  @Test
  @Order(4)
  void aGrayReleaseReachesOnlyTheApplicationsItsLabelsTarget() throws Exception {
    assertThat(publish("app.yaml/gray", "?labels=ring=canary", "demo:\n  message: gray\n")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> demo(a).equals("gray"));
    assertThat(demo(b)).isEqualTo("three");
    assertThat(post("/v1/namespaces/default/configs/app/app.yaml/gray/abort")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> demo(a).equals("three"));
  }

  @Test
  @Order(5)
  void registersOnTheBoundAddressWithMetadataAndDiscoveryAnswersFromTheCache() throws Exception {
    int port = ((WebServerApplicationContext) a).getWebServer().getPort();
    assertThat(instances("starter-a")).containsExactly("127.0.0.1:" + port);
    DiscoveryClient discovery = b.getBean(DiscoveryClient.class);
    List<ServiceInstance> found = discovery.getInstances("starter-a");
    assertThat(found).hasSize(1);
    ServiceInstance si = found.get(0);
    assertThat(si.getHost()).isEqualTo("127.0.0.1");
    assertThat(si.getPort()).isEqualTo(port);
    assertThat(si.getMetadata()).containsEntry("weight", "7").containsEntry("zone", "z1")
        .containsEntry("version", "2.0").containsEntry("healthy", "true").containsEntry("ring", "canary");
    assertThat(discovery.getServices()).contains("starter-a", "starter-b");
    List<ServiceInstance> reactive = b.getBean(ReactiveDiscoveryClient.class).getInstances("starter-a")
        .collectList().block(Duration.ofSeconds(30));
    assertThat(reactive).extracting(ServiceInstance::getPort).containsExactly(port);
    assertThat(a.getBean(LodestarHealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
  }

  @Test
  @Order(6)
  void aMissingOptionalImportIsWatchedAndArrivesWhenPublished() throws Exception {
    assertThat(b.getEnvironment().getProperty("extra.flag")).isNull();
    assertThat(publish("absent.yaml", "", "extra:\n  flag: enabled\n")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> "enabled".equals(b.getEnvironment().getProperty("extra.flag")));
  }

  @Test
  @Order(7)
  void disabledConfigSkipsEvenARequiredImportAndShutdownDeregisters() throws Exception {
    ConfigurableApplicationContext c = app("starter-c", "--spring.config.import=lodestar:app/does-not-exist.yaml",
        "--lodestar.config.enabled=false");
    assertThat(c.getEnvironment().getProperty("demo.message")).isNull();
    assertThat(instances("starter-c")).containsExactly("127.0.0.1:" + ((WebServerApplicationContext) c).getWebServer().getPort());
    c.close();
    // deregistered before close returned: no TTL to wait for
    assertThat(instances("starter-c")).isEmpty();
  }
}
