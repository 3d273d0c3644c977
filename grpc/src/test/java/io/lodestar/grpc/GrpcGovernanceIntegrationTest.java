package io.lodestar.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Lodestar server, three real grpc-java servers registered through
 * {@link GrpcServerRegistration}, and a client channel on {@code lodestar:///…} with the
 * interceptor: the resolver, balancer and reports as an application would use them.
 */
class GrpcGovernanceIntegrationTest {
  @TempDir static Path dataDir;
  static LodestarServer lodestar;
  static LodestarClient providerClient;
  static final List<Backend> BACKENDS = new ArrayList<>();
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  final List<GrpcServerRegistration> registrations = new ArrayList<>();
  ManagedChannel channel;

  /** A grpc-java server whose Health.Check counts its calls and can be told to fail. */
  static final class Backend extends HealthGrpc.HealthImplBase {
    final String version;
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean failing;
    Server server;

    Backend(String version) {
      this.version = version;
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
      calls.incrementAndGet();
      if (failing) {
        out.onError(Status.UNAVAILABLE.withDescription("failing on purpose").asRuntimeException());
        return;
      }
      out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
      out.onCompleted();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    lodestar = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    System.setProperty("lodestar.server", "127.0.0.1:" + lodestar.port());
    // generous timeouts: the test machine may be busy
    providerClient = LodestarClient.builder().servers("127.0.0.1:" + lodestar.port())
        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(30)).build();
    for (String v : List.of("v1", "v1", "v2")) {
      Backend b = new Backend(v);
      b.server = ServerBuilder.forPort(0).addService(b).build().start();
      BACKENDS.add(b);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (Backend b : BACKENDS) {
      b.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    providerClient.close();
    lodestar.close();
    System.clearProperty("lodestar.server");
  }

  @BeforeEach
  void reset() {
    BACKENDS.forEach(b -> {
      b.calls.set(0);
      b.failing = false;
    });
  }

  @AfterEach
  void closeChannel() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    registrations.forEach(GrpcServerRegistration::close);
  }

  /** Registers the three backends under {@code service} and opens a channel on it. */
  HealthGrpc.HealthBlockingStub open(String service) {
    for (Backend b : BACKENDS) {
      registrations.add(GrpcServerRegistration.register(providerClient, b.server, service, "127.0.0.1",
          Map.of("version", b.version)));
    }
    channel = ManagedChannelBuilder.forTarget("lodestar:///" + service).usePlaintext()
        .intercept(new LodestarClientInterceptor()).build();
    HealthGrpc.HealthBlockingStub stub = HealthGrpc.newBlockingStub(channel);
    // the first call waits for the list and the connections; all three are in it once the push lands
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      call(stub);
      return BACKENDS.stream().allMatch(b -> b.calls.get() > 0);
    });
    reset();
    return stub;
  }

  static boolean call(HealthGrpc.HealthBlockingStub stub) {
    try {
      stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      return true;
    } catch (io.grpc.StatusRuntimeException e) {
      return false;
    }
  }

  static void putRule(String service, String kind, String json) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lodestar.port()
        + "/v1/namespaces/default/services/" + service + "/rules/" + kind))
        .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void callsSpreadAcrossTheThreeServers() {
    HealthGrpc.HealthBlockingStub stub = open("greeter");
    for (int i = 0; i < 600; i++) {
      assertThat(call(stub)).isTrue();
    }
    // weighted random over three equal weights: each expects 200 (σ ≈ 11.5)
    BACKENDS.forEach(b -> assertThat(b.calls.get()).isBetween(130, 270));
  }

  @Test
  void aRemovedServerStopsReceivingCalls() {
    HealthGrpc.HealthBlockingStub stub = open("greeter-removal");
    Backend removed = BACKENDS.get(0);
    registrations.remove(0).close();  // deregistered: acknowledged by the server
    long t0 = System.nanoTime();
    // the push reaches the resolver and the governor; from then on, a run of calls misses it
    // (how fast is printed, not asserted: speed belongs to benchmarks)
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() -> {
      int before = removed.calls.get();
      for (int i = 0; i < 30; i++) {
        call(stub);
      }
      return removed.calls.get() == before;
    });
    System.out.printf("removed server out of rotation after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    int before = removed.calls.get();
    for (int i = 0; i < 300; i++) {
      assertThat(call(stub)).isTrue();
    }
    assertThat(removed.calls.get()).isEqualTo(before);
  }

  @Test
  void aWeightedRouteRuleMovesTheShare() throws Exception {
    HealthGrpc.HealthBlockingStub stub = open("greeter-weighted");
    putRule("greeter-weighted", "route", "{\"rules\":[{\"name\":\"canary\",\"match\":{\"headers\":{\"x-canary\":"
        + "{\"exact\":\"1\"}}},\"destinations\":[{\"subset\":{\"version\":\"v2\"}}]},"
        + "{\"name\":\"split\",\"destinations\":[{\"subset\":{\"version\":\"v1\"},\"weight\":20},"
        + "{\"subset\":{\"version\":\"v2\"},\"weight\":80}]}]}");
    Backend v2 = BACKENDS.get(2);
    // once the rule is pushed, v2's share goes from a third to 80 %
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      reset();
      for (int i = 0; i < 100; i++) {
        call(stub);
      }
      return v2.calls.get() > 60;
    });
    reset();
    for (int i = 0; i < 1000; i++) {
      assertThat(call(stub)).isTrue();
    }
    // σ ≈ 1.3 %; tolerance 5 %
    assertThat(v2.calls.get() / 1000.0).isCloseTo(0.8, within(0.05));
    // metadata reaches the route context: x-canary: 1 goes to v2 only
    Metadata canary = new Metadata();
    canary.put(Metadata.Key.of("x-canary", Metadata.ASCII_STRING_MARSHALLER), "1");
    HealthGrpc.HealthBlockingStub canaryStub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(canary));
    reset();
    for (int i = 0; i < 100; i++) {
      assertThat(call(canaryStub)).isTrue();
    }
    assertThat(v2.calls.get()).isEqualTo(100);
  }

  @Test
  void aFailingServerIsAvoided() {
    HealthGrpc.HealthBlockingStub stub = open("greeter-failing");
    Backend bad = BACKENDS.get(1);
    bad.failing = true;
    int failures = 0;
    for (int i = 0; i < 300; i++) {
      if (!call(stub)) {
        failures++;
      }
    }
    // the instance breaker opens after 20 consecutive errors (the default rule: hard failures only)
    assertThat(failures).isBetween(5, 20);
    int before = bad.calls.get();
    for (int i = 0; i < 300; i++) {
      assertThat(call(stub)).isTrue();
    }
    assertThat(bad.calls.get()).isEqualTo(before);
  }
}
