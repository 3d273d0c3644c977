package io.lodestar.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.lodestar.client.LodestarClient;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traces over grpc-java into a real OTLP/HTTP endpoint: the application's OpenTelemetry SDK
 * exports to an Armeria server in this test that accepts {@code POST /v1/traces} and decodes the
 * protobuf. The test calls A through Lodestar, A calls B, where a route rule sends every call to
 * subset version=v2. The spans of both hops share one trace, each server span is the child of its
 * client span, and the client span of A → B names the rule, the subset and the instance.
 */
class GrpcTracingIntegrationTest {
  // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call
  private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static LodestarClient providerClient;
  static com.linecorp.armeria.server.Server collector;
  static OpenTelemetrySdk otel;
  static final List<Span> SPANS = new CopyOnWriteArrayList<>();
  static final List<Server> SERVERS = new ArrayList<>();
  static final List<GrpcServerRegistration> REGISTRATIONS = new ArrayList<>();
  static final List<ManagedChannel> CHANNELS = new ArrayList<>();

  /** Answers, after calling the next service if there is one. */
  static final class Hop extends HealthGrpc.HealthImplBase {
    final HealthGrpc.HealthBlockingStub next;

    Hop(HealthGrpc.HealthBlockingStub next) {
      this.next = next;
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
      if (next != null) {
        next.withDeadlineAfter(20, TimeUnit.SECONDS).check(request);
      }
      out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
      out.onCompleted();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    collector = com.linecorp.armeria.server.Server.builder().localPort(0, com.linecorp.armeria.common.SessionProtocol.HTTP)
        .service("/v1/traces", (ctx, req) -> HttpResponse.of(req.aggregate().thenApply(body -> {
          if (req.contentType() == null || !"application/x-protobuf".equals(req.contentType().nameWithoutParameters())) {
            return HttpResponse.of(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
          }
          try {
            for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(body.content().array()).getResourceSpansList()) {
              for (ScopeSpans ss : rs.getScopeSpansList()) {
                SPANS.addAll(ss.getSpansList());
              }
            }
          } catch (Exception e) {
            return HttpResponse.of(HttpStatus.BAD_REQUEST);
          }
          return HttpResponse.of(HttpStatus.OK, MediaType.PROTOBUF,
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
    System.setProperty("lodestar.server", "127.0.0.1:" + lodestar.port());
    providerClient = LodestarClient.builder().servers("127.0.0.1:" + lodestar.port())
        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(30)).build();
    java.net.http.HttpResponse<String> r = HTTP1.send(HttpRequest.newBuilder(URI.create(
        "http://127.0.0.1:" + lodestar.port() + "/v1/namespaces/default/services/trace-b/rules/route"))
        .PUT(HttpRequest.BodyPublishers.ofString("{\"rules\":[{\"name\":\"to-v2\","
            + "\"destinations\":[{\"subset\":{\"version\":\"v2\"}}]}]}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    serve("trace-a", Map.of(), stub("trace-b"));
    serve("trace-b", Map.of("version", "v1"), null);
    serve("trace-b", Map.of("version", "v2"), null);
  }

  static void serve(String service, Map<String, String> metadata, HealthGrpc.HealthBlockingStub next) throws Exception {
    Server server = ServerBuilder.forPort(0)
        .addService(ServerInterceptors.intercept(new Hop(next), new LodestarServerInterceptor())).build().start();
    SERVERS.add(server);
    REGISTRATIONS.add(GrpcServerRegistration.register(providerClient, server, service, "127.0.0.1", metadata));
  }

  static HealthGrpc.HealthBlockingStub stub(String service) {
    ManagedChannel ch = ManagedChannelBuilder.forTarget("lodestar:///" + service).usePlaintext()
        .intercept(new LodestarClientInterceptor()).build();
    CHANNELS.add(ch);
    return HealthGrpc.newBlockingStub(ch);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ManagedChannel c : CHANNELS) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    REGISTRATIONS.forEach(GrpcServerRegistration::close);
    for (Server s : SERVERS) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    providerClient.close();
    lodestar.close();
    System.clearProperty("lodestar.server");
    otel.close();
    GlobalOpenTelemetry.resetForTest();
    collector.stop().join();
  }

  static Optional<String> attribute(Span span, String key) {
    return span.getAttributesList().stream().filter(kv -> kv.getKey().equals(key)).findFirst()
        .map(KeyValue::getValue).map(v -> v.getStringValue());
  }

  static String hex(com.google.protobuf.ByteString id) {
    return HexFormat.of().formatHex(id.toByteArray());
  }

  @Test
  void bothHopsShareOneTraceAndTheClientSpanCarriesTheRoutingDecision() {
    HealthGrpc.HealthBlockingStub a = stub("trace-a");
    String v2 = REGISTRATIONS.get(2).instance().id();
    // B's instances and its rule reach A's channel: then a call's A → B span names rule, subset, v2
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
      SPANS.clear();
      a.withDeadlineAfter(20, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      // SimpleSpanProcessor exports each span as it ends; the collector may see them a moment later
      await().atMost(Duration.ofSeconds(30)).until(() -> SPANS.size() >= 4);
      assertThat(SPANS.stream().filter(s -> attribute(s, "lodestar.route.rule").isPresent()))
          .singleElement().satisfies(s -> {
            assertThat(attribute(s, "lodestar.route.rule")).contains("to-v2");
            assertThat(attribute(s, "lodestar.route.subset")).contains("version=v2");
            assertThat(attribute(s, "lodestar.instance")).contains(v2);
          });
    });
    List<Span> clients = SPANS.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT).toList();
    List<Span> servers = SPANS.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER).toList();
    assertThat(clients).hasSize(2);
    assertThat(servers).hasSize(2);
    // one trace across both hops
    assertThat(SPANS).extracting(s -> hex(s.getTraceId())).containsOnly(hex(clients.get(0).getTraceId()));
    Span toA = clients.stream().filter(s -> s.getParentSpanId().isEmpty()).findFirst().orElseThrow();
    Span toB = clients.stream().filter(s -> !s.getParentSpanId().isEmpty()).findFirst().orElseThrow();
    Span atA = servers.stream().filter(s -> s.getParentSpanId().equals(toA.getSpanId())).findFirst().orElseThrow();
    // A's call to B is made while A serves: its span is the child of A's server span
    assertThat(toB.getParentSpanId()).isEqualTo(atA.getSpanId());
    assertThat(servers).anySatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(toB.getSpanId()));
    assertThat(attribute(toA, "lodestar.instance")).contains(REGISTRATIONS.get(0).instance().id());
    assertThat(attribute(toA, "lodestar.route.rule")).isEmpty();  // no route rule for A
  }
}
