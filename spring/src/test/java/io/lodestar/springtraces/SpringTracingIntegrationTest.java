package io.lodestar.springtraces;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.sun.net.httpserver.HttpServer;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.server.LodestarServer;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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
 * Traces through the Spring starter into a real OTLP/HTTP endpoint (an Armeria server in this test
 * that accepts {@code POST /v1/traces} and decodes the protobuf). The test sends a request with its
 * own {@code traceparent} to B, a real Spring Boot app, which calls C through a
 * {@code @LoadBalanced RestClient}; a route rule sends C's calls to subset version=v2. B's server
 * span continues the test's trace, its client span is the child of the server span and carries the
 * routing decision, and C receives a {@code traceparent} naming that client span. (Its own package:
 * the starter test's {@code @SpringBootApplication} scans {@code io.lodestar.spring}.)
 */
class SpringTracingIntegrationTest {
  static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String CALLER_SPAN = "00f067aa0ba902b7";
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static LodestarClient sdk;
  static com.linecorp.armeria.server.Server collector;
  static OpenTelemetrySdk otel;
  static ConfigurableApplicationContext b;
  static HttpServer cV1;
  static HttpServer cV2;
  static Instance cV2Instance;
  static final List<Span> SPANS = new CopyOnWriteArrayList<>();
  static final List<String> C_TRACEPARENTS = new CopyOnWriteArrayList<>();
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

  @RestController
  static class Hop {
    private final RestClient c;

    Hop(RestClient.Builder http) {
      this.c = http.build();
    }

    @GetMapping("/hop")
    String hop() {
      return "b>" + c.get().uri("http://strace-c/hit").retrieve().body(String.class);
    }
  }

  static HttpServer c(String name) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/hit", ex -> {
      String traceparent = ex.getRequestHeaders().getFirst("traceparent");
      if (traceparent != null) {
        C_TRACEPARENTS.add(traceparent);
      }
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
    collector = com.linecorp.armeria.server.Server.builder()
        .localPort(0, com.linecorp.armeria.common.SessionProtocol.HTTP)
        .service("/v1/traces", (ctx, req) -> com.linecorp.armeria.common.HttpResponse.of(req.aggregate().thenApply(body -> {
          try {
            for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(body.content().array()).getResourceSpansList()) {
              for (ScopeSpans ss : rs.getScopeSpansList()) {
                SPANS.addAll(ss.getSpansList());
              }
            }
          } catch (Exception e) {
            return com.linecorp.armeria.common.HttpResponse.of(HttpStatus.BAD_REQUEST);
          }
          return com.linecorp.armeria.common.HttpResponse.of(HttpStatus.OK, MediaType.PROTOBUF,
              ExportTraceServiceResponse.getDefaultInstance().toByteArray());
        })))
        .build();
    collector.start().join();
    otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
        .addSpanProcessor(SimpleSpanProcessor.create(OtlpHttpSpanExporter.builder()
            .setEndpoint("http://127.0.0.1:" + collector.activeLocalPort() + "/v1/traces").build()))
        .build()).build();
    GlobalOpenTelemetry.resetForTest();
    GlobalOpenTelemetry.set(otel);

    lodestar = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    sdk = LodestarClient.builder().servers("127.0.0.1:" + lodestar.port()).requestTimeout(Duration.ofSeconds(30))
        .build();
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lodestar.port()
        + "/v1/namespaces/default/services/strace-c/rules/route")).PUT(HttpRequest.BodyPublishers.ofString(
        "{\"rules\":[{\"name\":\"to-v2\",\"destinations\":[{\"subset\":{\"version\":\"v2\"}}]}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    cV1 = c("c-v1");
    cV2 = c("c-v2");
    sdk.register(RegistrationSpec.builder().service("strace-c").host("127.0.0.1").port(cV1.getAddress().getPort())
        .metadata(Map.of("version", "v1")).build());
    cV2Instance = sdk.register(RegistrationSpec.builder().service("strace-c").host("127.0.0.1")
        .port(cV2.getAddress().getPort()).metadata(Map.of("version", "v2")).build());
    b = new SpringApplicationBuilder(BApp.class).run("--spring.application.name=strace-b", "--server.port=0",
        "--server.address=127.0.0.1", "--lodestar.server=127.0.0.1:" + lodestar.port(),
        "--lodestar.discovery.deregister-delay=0s", "--lodestar.connect-timeout=10s", "--lodestar.request-timeout=30s",
        "--spring.config.name=trace-test-none", "--spring.main.banner-mode=off");
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (cV1 != null) {
      cV1.stop(0);
      cV2.stop(0);
    }
    if (sdk != null) {
      sdk.close();
    }
    if (lodestar != null) {
      lodestar.close();
    }
    if (otel != null) {
      otel.close();
    }
    GlobalOpenTelemetry.resetForTest();
    if (collector != null) {
      collector.stop().join();
    }
  }

  static Optional<String> attribute(Span span, String key) {
    return span.getAttributesList().stream().filter(kv -> kv.getKey().equals(key)).findFirst()
        .map(KeyValue::getValue).map(v -> v.getStringValue());
  }

  static String hex(com.google.protobuf.ByteString id) {
    return HexFormat.of().formatHex(id.toByteArray());
  }

  static String callB() throws Exception {
    int port = Integer.parseInt(b.getEnvironment().getProperty("local.server.port"));
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hop"))
        .header("traceparent", "00-" + TRACE_ID + "-" + CALLER_SPAN + "-01").timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  @Test
  void theServedRequestsTraceGoesOnAndTheClientSpanCarriesTheRoutingDecision() {
    // C's instances and its rule reach B: then a request's spans name rule, subset and C v2
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
      SPANS.clear();
      C_TRACEPARENTS.clear();
      assertThat(callB()).isEqualTo("b>c-v2");
      await().atMost(Duration.ofSeconds(30)).until(() -> SPANS.stream().anyMatch(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT));
      assertThat(SPANS.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)).singleElement()
          .satisfies(s -> assertThat(attribute(s, "lodestar.route.rule")).contains("to-v2"));
    });
    Span client = SPANS.stream().filter(s -> attribute(s, "lodestar.route.rule").isPresent()).findFirst().orElseThrow();
    // the server span ends once the response is written, so it may reach the collector a moment later
    await().atMost(Duration.ofSeconds(30)).until(() -> SPANS.stream().anyMatch(s -> s.getSpanId().equals(client.getParentSpanId())));
    Span server = SPANS.stream().filter(s -> s.getSpanId().equals(client.getParentSpanId())).findFirst().orElseThrow();
    assertThat(server.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    // B's server span continues the caller's trace; its call to C is its child, in the same trace
    assertThat(hex(server.getTraceId())).isEqualTo(TRACE_ID);
    assertThat(hex(server.getParentSpanId())).isEqualTo(CALLER_SPAN);
    assertThat(hex(client.getTraceId())).isEqualTo(TRACE_ID);
    assertThat(client.getParentSpanId()).isEqualTo(server.getSpanId());
    assertThat(attribute(client, "lodestar.route.subset")).contains("version=v2");
    assertThat(attribute(client, "lodestar.instance")).contains(cV2Instance.id());
    // C was told the trace and that B's client span is its parent
    assertThat(C_TRACEPARENTS).containsExactly("00-" + TRACE_ID + "-" + hex(client.getSpanId()) + "-01");
  }
}
