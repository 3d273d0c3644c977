package io.lodestar.springlanes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.route.CallContext;
import io.lodestar.server.LodestarServer;
import io.lodestar.spring.LodestarLane;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * Lanes through the Spring starter, A → B → C: B is two real Spring Boot apps (baseline, and gray
 * in lane canary) calling C through a {@code @LoadBalanced RestClient}; C is two HTTP servers
 * (baseline, gray) registered with the SDK; A is the SDK's Governor choosing B, as an entry service
 * does. A tagged request reaches gray B and gray C; an untagged one never does; with C's gray
 * instance gone, the tagged request reaches baseline C. (Its own package: the starter test's
 * {@code @SpringBootApplication} scans {@code io.lodestar.spring} and would pick up this controller.)
 */
class SpringLaneIntegrationTest {
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static LodestarClient sdk;
  static ConfigurableApplicationContext bBase;
  static ConfigurableApplicationContext bGray;
  static HttpServer cBase;
  static HttpServer cGray;
  static Instance cGrayInstance;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @SpringBootConfiguration
  @EnableAutoConfiguration
  @Import(Hop.class)
  static class BApp {
    @Bean
    @LoadBalanced
    RestClient.Builder loadBalanced() {
      return RestClient.builder();
    }
  }

  /** B's endpoint: names itself, then what C answered. */
  @RestController
  static class Hop {
    private final RestClient c;
    private final String name;

    Hop(RestClient.Builder http, @Value("${hop.name}") String name) {
      this.c = http.build();
      this.name = name;
    }

    @GetMapping("/hop")
    String hop() {
      return name + ">" + c.get().uri("http://slane-c/hit").retrieve().body(String.class);
    }
  }

  static ConfigurableApplicationContext b(String name, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("--spring.application.name=slane-b", "--server.port=0",
        "--server.address=127.0.0.1", "--lodestar.server=127.0.0.1:" + lodestar.port(), "--hop.name=" + name,
        "--lodestar.discovery.deregister-delay=0s", "--lodestar.connect-timeout=10s", "--lodestar.request-timeout=30s",
        "--spring.config.name=lane-test-none", "--spring.main.banner-mode=off"));
    args.addAll(List.of(more));
    return new SpringApplicationBuilder(BApp.class).run(args.toArray(String[]::new));
  }

  static HttpServer c(String name) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/hit", ex -> {
      byte[] body = name.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    s.start();
    return s;
  }

  @BeforeAll
  static void start() throws Exception {
    lodestar = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    sdk = LodestarClient.builder().servers("127.0.0.1:" + lodestar.port()).requestTimeout(Duration.ofSeconds(30))
        .build();
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lodestar.port()
        + "/v1/namespaces/default/rules/lane")).PUT(HttpRequest.BodyPublishers.ofString(
        "{\"lanes\":[{\"name\":\"canary\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    cBase = c("c");
    cGray = c("c-gray");
    sdk.register(RegistrationSpec.builder().service("slane-c").host("127.0.0.1").port(cBase.getAddress().getPort())
        .build());
    cGrayInstance = sdk.register(RegistrationSpec.builder().service("slane-c").host("127.0.0.1")
        .port(cGray.getAddress().getPort()).metadata(Map.of("lane", "canary")).build());
    bBase = b("b");
    bGray = b("b-gray", "--lodestar.discovery.metadata.lane=canary");
  }

  @AfterAll
  static void stop() {
    for (ConfigurableApplicationContext c : new ConfigurableApplicationContext[] {bGray, bBase}) {
      if (c != null) {
        c.close();
      }
    }
    if (cBase != null) {
      cBase.stop(0);
      cGray.stop(0);
    }
    if (sdk != null) {
      sdk.close();
    }
    if (lodestar != null) {
      lodestar.close();
    }
  }

  /** A, the entry service: chooses a B with the Governor and calls it, in the lane or not. */
  static String callA(Governor a, String lane) throws Exception {
    CallContext ctx = lane == null ? CallContext.empty() : CallContext.builder().header(LodestarLane.HEADER, lane).build();
    Instance b = a.choose("slane-b", ctx);
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://" + b.host() + ":" + b.port() + "/hop"))
        .timeout(Duration.ofSeconds(30));
    if (lane != null) {
      req.header(LodestarLane.HEADER, lane);
    }
    HttpResponse<String> r = HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  @Test
  void aTaggedRequestStaysInTheLaneOnEveryHopAndAnUntaggedOneNeverEntersIt() throws Exception {
    try (Governor a = Governor.builder(sdk).callerService("slane-a").build()) {
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
        assertThat(callA(a, "canary")).isEqualTo("b-gray>c-gray");
        assertThat(a.governor("default", "slane-b").size()).isEqualTo(2);
      });
      for (int i = 0; i < 10; i++) {
        assertThat(callA(a, "canary")).isEqualTo("b-gray>c-gray");
        assertThat(callA(a, null)).isEqualTo("b>c");
      }

      sdk.deregister("default", "slane-c", cGrayInstance.id());
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
          assertThat(callA(a, "canary")).isEqualTo("b-gray>c"));
    }
  }
}
