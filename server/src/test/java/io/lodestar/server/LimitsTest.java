package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.server.limits.ServerLimits;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The limits a client meets, against a real server with small ones: instances per service,
 * services per namespace and streams per address answer with an error naming the limit, and
 * nothing is written; oversized headers and bodies are refused by status.
 */
@SuppressWarnings("unchecked")
class LimitsTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).limits(new ServerLimits(2, 3, 1)).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Http.Response register(String svc, int port) {
    return http.post("/v1/namespaces/default/services/" + svc + "/instances", "{\"host\":\"10.9.0.1\",\"port\":" + port + "}");
  }

  @Test
  void aFullServiceRefusesANewInstanceButNotARegistrationOfOneItHas() {
    assertThat(register("full", 1).status()).isBetween(200, 201);
    assertThat(register("full", 2).status()).isBetween(200, 201);
    Http.Response refused = register("full", 3);
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.json().path("error").path("field").asText()).isEqualTo("max-instances-per-service");
    assertThat(refused.json().path("error").path("message").asText()).contains("--max-instances-per-service 2");
    assertThat(register("full", 2).status()).as("a re-assertion").isBetween(200, 201);
    assertThat(http.get("/v1/namespaces/default/services/full/instances").json().path("instances")).hasSize(2);
  }

  @Test
  void aFullNamespaceRefusesANewService() {
    http.post("/v1/namespaces", "{\"name\":\"small\"}");
    for (int i = 0; i < 3; i++) {
      assertThat(http.post("/v1/namespaces/small/services/s" + i + "/instances", "{\"host\":\"10.9.0.2\",\"port\":1}")
          .status()).isBetween(200, 201);
    }
    Http.Response refused = http.post("/v1/namespaces/small/services/s3/instances", "{\"host\":\"10.9.0.2\",\"port\":1}");
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.json().path("error").path("field").asText()).isEqualTo("max-services-per-namespace");
    assertThat(http.get("/v1/namespaces/small/services").body()).contains("s2").doesNotContain("s3");
    assertThat(http.get("/v1/namespaces/small").json().path("services").asInt()).as("the namespace's count").isEqualTo(3);
  }

  @Test
  void oversizedHeadersAndBodiesAreRefused() {
    Http.Response big = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/namespaces"))
        .header("X-Padding", "x".repeat(LodestarServer.MAX_HEADER_BYTES + 1)).GET());
    assertThat(big.status()).isEqualTo(431);
    Http.Response body = http.post("/v1/namespaces/default/services/big/instances",
        "{\"host\":\"10.9.0.3\",\"port\":1,\"metadata\":{\"k\":\"" + "y".repeat(LodestarServer.MAX_REQUEST_BYTES) + "\"}}");
    assertThat(body.status()).isEqualTo(413);
    assertThat(http.get("/v1/namespaces/default/services/big/instances").json().path("instances")).isEmpty();
  }

  @Test
  void aSecondStreamFromTheSameAddressIsRefusedWhileTheFirstStaysOpen() {
    NamingGrpc.NamingStub stub = GrpcClients.newClient("http://127.0.0.1:" + server.port(), NamingGrpc.NamingStub.class);
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    AtomicReference<ServerMessage> welcome = new AtomicReference<>();
    StreamObserver<ClientMessage> first = stub.connect(observer(welcome, firstError));
    first.onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("one")).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> welcome.get() != null);

    AtomicReference<Throwable> secondError = new AtomicReference<>();
    StreamObserver<ClientMessage> second = stub.connect(observer(new AtomicReference<>(), secondError));
    second.onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("two")).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> secondError.get() != null);
    Status s = Status.fromThrowable(secondError.get());
    assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(s.getDescription()).contains("--max-streams-per-address");
    assertThat(firstError.get()).isNull();

    first.onCompleted();  // gives its slot back
    AtomicReference<ServerMessage> third = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      AtomicReference<Throwable> err = new AtomicReference<>();
      StreamObserver<ClientMessage> s3 = stub.connect(observer(third, err));
      s3.onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("three")).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> third.get() != null || err.get() != null);
      if (third.get() == null) {
        throw new AssertionError("refused: " + err.get());
      }
      s3.onCompleted();
    });
  }

  /** ADS (xDS) streams share the budget: an open SDK stream refuses an ADS one, and the other way round. */
  @Test
  void adsStreamsCountInTheSameLimitAsSdkStreams() {
    NamingGrpc.NamingStub sdk = GrpcClients.newClient("http://127.0.0.1:" + server.port(), NamingGrpc.NamingStub.class);
    var ads = GrpcClients.newClient("http://127.0.0.1:" + server.port(),
        io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub.class);
    var request = io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.newBuilder()
        .setNode(io.envoyproxy.envoy.config.core.v3.Node.newBuilder().setId("envoy-1"))
        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster").build();

    // an SDK stream holds the one slot (once an earlier test's stream has given its slot back)
    AtomicReference<ServerMessage> welcome = new AtomicReference<>();
    AtomicReference<Throwable> sdkError = new AtomicReference<>();
    StreamObserver<ClientMessage>[] held = new StreamObserver[1];
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      sdkError.set(null);
      held[0] = sdk.connect(observer(welcome, sdkError));
      held[0].onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("sdk")).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> welcome.get() != null || sdkError.get() != null);
      assertThat(welcome.get()).as("refused: %s", sdkError.get()).isNotNull();
    });
    AtomicReference<Throwable> adsError = new AtomicReference<>();
    AtomicReference<io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse> adsFirst = new AtomicReference<>();
    ads.streamAggregatedResources(adsObserver(adsFirst, adsError)).onNext(request);
    await().atMost(Duration.ofSeconds(30)).until(() -> adsError.get() != null);
    Status s = Status.fromThrowable(adsError.get());
    assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(s.getDescription()).contains("--max-streams-per-address");
    assertThat(sdkError.get()).isNull();

    // the SDK stream ends: an ADS stream takes the slot and is answered
    held[0].onCompleted();
    AtomicReference<StreamObserver<io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest>> open = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      AtomicReference<Throwable> err = new AtomicReference<>();
      adsFirst.set(null);
      StreamObserver<io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest> req =
          ads.streamAggregatedResources(adsObserver(adsFirst, err));
      req.onNext(request);
      await().atMost(Duration.ofSeconds(30)).until(() -> adsFirst.get() != null || err.get() != null);
      assertThat(adsFirst.get()).as("refused: %s", err.get()).isNotNull();
      open.set(req);
    });
    // and now an SDK stream is the one refused
    AtomicReference<Throwable> refused = new AtomicReference<>();
    sdk.connect(observer(new AtomicReference<>(), refused))
        .onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("sdk-2")).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> refused.get() != null);
    assertThat(Status.fromThrowable(refused.get()).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    open.get().onCompleted();
    // the slot is back (for the other tests too): an SDK stream is welcomed again
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      AtomicReference<ServerMessage> again = new AtomicReference<>();
      AtomicReference<Throwable> err = new AtomicReference<>();
      StreamObserver<ClientMessage> s4 = sdk.connect(observer(again, err));
      s4.onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("sdk-3")).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> again.get() != null || err.get() != null);
      s4.onCompleted();
      assertThat(again.get()).as("refused: %s", err.get()).isNotNull();
    });
  }

  private static StreamObserver<io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse> adsObserver(
      AtomicReference<io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse> first, AtomicReference<Throwable> error) {
    return new StreamObserver<>() {
      @Override
      public void onNext(io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse m) {
        first.compareAndSet(null, m);
      }

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  private static StreamObserver<ServerMessage> observer(AtomicReference<ServerMessage> first,
      AtomicReference<Throwable> error) {
    return new StreamObserver<>() {
      @Override
      public void onNext(ServerMessage m) {
        first.compareAndSet(null, m);
      }

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
