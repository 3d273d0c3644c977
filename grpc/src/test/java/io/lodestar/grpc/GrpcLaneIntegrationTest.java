package io.lodestar.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.lodestar.client.LodestarClient;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lanes over grpc-java, A → B → C: real grpc servers registered in a real Lodestar server, each
 * hop calling the next through a {@code lodestar:///} channel with the interceptors. B and C each
 * have a gray instance in lane canary. A tagged call at A reaches gray B and gray C; an untagged
 * one never does; with C's gray instance gone, the tagged call reaches baseline C.
 */
class GrpcLaneIntegrationTest {
  // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call
  private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static LodestarClient providerClient;
  static final List<Hop> HOPS = new ArrayList<>();
  static final List<GrpcServerRegistration> REGISTRATIONS = new ArrayList<>();
  static final List<ManagedChannel> CHANNELS = new ArrayList<>();

  /** One instance of a hop: counts its calls, then calls the next service, if any. */
  static final class Hop extends HealthGrpc.HealthImplBase {
    final String name;
    final AtomicInteger calls = new AtomicInteger();
    /** The W3C traceparent of the last call served, as the server interceptor passed it on. */
    volatile String traceparent;
    volatile HealthGrpc.HealthBlockingStub next;
    Server server;

    Hop(String name) {
      this.name = name;
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
      calls.incrementAndGet();
      traceparent = TraceHeaders.PARENT.get();
      if (next != null) {
        next.withDeadlineAfter(20, TimeUnit.SECONDS).check(request);
      }
      out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
      out.onCompleted();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    lodestar = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    System.setProperty("lodestar.server", "127.0.0.1:" + lodestar.port());
    providerClient = LodestarClient.builder().servers("127.0.0.1:" + lodestar.port())
        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(30)).build();
    HttpResponse<String> r = HTTP1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + lodestar.port() + "/v1/namespaces/default/rules/lane"))
        .PUT(HttpRequest.BodyPublishers.ofString("{\"lanes\":[{\"name\":\"canary\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    HealthGrpc.HealthBlockingStub toB = stub("glane-b");
    HealthGrpc.HealthBlockingStub toC = stub("glane-c");
    hop("glane-a", "a", Map.of(), toB);
    hop("glane-b", "b", Map.of(), toC);
    hop("glane-b", "b-gray", Map.of("lane", "canary"), toC);
    hop("glane-c", "c", Map.of(), null);
    hop("glane-c", "c-gray", Map.of("lane", "canary"), null);
  }

  static void hop(String service, String name, Map<String, String> metadata, HealthGrpc.HealthBlockingStub next)
      throws Exception {
    Hop h = new Hop(name);
    h.next = next;
    h.server = ServerBuilder.forPort(0).addService(ServerInterceptors.intercept(h, new LodestarServerInterceptor()))
        .build().start();
    HOPS.add(h);
    REGISTRATIONS.add(GrpcServerRegistration.register(providerClient, h.server, service, "127.0.0.1", metadata));
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
    for (Hop h : HOPS) {
      h.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    providerClient.close();
    lodestar.close();
    System.clearProperty("lodestar.server");
  }

  static Hop hop(String name) {
    return HOPS.stream().filter(h -> h.name.equals(name)).findFirst().orElseThrow();
  }

  static void reset() {
    HOPS.forEach(h -> h.calls.set(0));
  }

  static int calls(String name) {
    return hop(name).calls.get();
  }

  @Test
  void aTaggedCallStaysInTheLaneOnEveryHopAndAnUntaggedOneNeverEntersIt() {
    HealthGrpc.HealthBlockingStub a = stub("glane-a");
    Metadata canary = new Metadata();
    canary.put(LodestarServerInterceptor.LANE_HEADER, "canary");
    HealthGrpc.HealthBlockingStub tagged = a.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(canary));
    // every instance and the lane rule known everywhere: a tagged call goes gray at both hops
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
      reset();
      tagged.withDeadlineAfter(20, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      assertThat(calls("b-gray")).isEqualTo(1);
      assertThat(calls("c-gray")).isEqualTo(1);
    });
    // without an OpenTelemetry SDK (only the API is on this classpath) the caller's trace context
    // passes through every hop unchanged, on the lane's path
    String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    Metadata traced = new Metadata();
    traced.put(LodestarServerInterceptor.LANE_HEADER, "canary");
    traced.put(TraceHeaders.TRACEPARENT, traceparent);
    a.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(traced)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    assertThat(hop("b-gray").traceparent).isEqualTo(traceparent);
    assertThat(hop("c-gray").traceparent).isEqualTo(traceparent);
    reset();
    for (int i = 0; i < 20; i++) {
      tagged.withDeadlineAfter(20, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      a.withDeadlineAfter(20, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
    }
    assertThat(calls("a")).isEqualTo(40);
    assertThat(calls("b-gray")).isEqualTo(20);
    assertThat(calls("c-gray")).isEqualTo(20);
    assertThat(calls("b")).isEqualTo(20);  // the untagged ones, all of them
    assertThat(calls("c")).isEqualTo(20);

    // C's gray instance goes: the tagged call still reaches gray B, then baseline C
    REGISTRATIONS.get(4).close();
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
      reset();
      tagged.withDeadlineAfter(20, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      assertThat(calls("b-gray")).isEqualTo(1);
      assertThat(calls("c")).isEqualTo(1);
      assertThat(calls("c-gray")).isZero();
    });
  }
}
