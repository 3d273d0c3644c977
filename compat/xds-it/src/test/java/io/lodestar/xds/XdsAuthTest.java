package io.lodestar.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ADS against a server started with --auth: call credentials, the node's namespace, revocation. */
class XdsAuthTest {
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path data;
  static LodestarServer server;
  static ManagedChannel channel;
  static String admin;

  @BeforeAll
  static void start() throws Exception {
    server = LodestarServer.builder().port(0).dataDir(data).auth(true)
        .bootstrapOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    Path file = data.resolve("bootstrap-token");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
    admin = Files.readString(file).trim();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.close();
  }

  static String call(String method, String path, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Authorization", "Bearer " + admin)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
    return r.body();
  }

  static String token(String name, String policy) throws Exception {
    return new ObjectMapper().readTree(call("POST", "/v1/tokens",
        "{\"name\":\"" + name + "\",\"policies\":[\"" + policy + "\"]}")).path("secret").asText();
  }

  /** Opens a stream (with the token as call credentials, if any) and asks for listeners as a node of default. */
  static BlockingQueue<Object> ads(String token) {
    BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    var stub = AggregatedDiscoveryServiceGrpc.newStub(channel);
    if (token != null) {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    StreamObserver<DiscoveryRequest> requests = stub.streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        received.add(r);
      }

      @Override
      public void onError(Throwable t) {
        received.add(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        received.add("completed");
      }
    });
    Node node = Node.newBuilder().setId("auth-node").setUserAgentName("gRPC Java").setMetadata(Struct.newBuilder()
        .putFields("lodestar.namespace", Value.newBuilder().setStringValue("default").build())).build();
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(LDS).addResourceNames("auth-svc").build());
    return received;
  }

  static Object next(BlockingQueue<Object> q) throws InterruptedException {
    Object o = q.poll(30, TimeUnit.SECONDS);
    assertThat(o).as("an answer within 30 s").isNotNull();
    return o;
  }

  @Test
  void aStreamNeedsATokenWithReadOnTheNodesNamespaceAndEndsWhenItIsRevoked() throws Exception {
    call("POST", "/v1/namespaces/default/services/auth-svc/instances", "{\"host\":\"10.0.0.5\",\"port\":9000}");
    assertThat(((Status) next(ads(null))).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    Status denied = (Status) next(ads(token("xds-other", "read:other")));
    assertThat(denied.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(denied.getDescription()).contains("read:default");

    BlockingQueue<Object> allowed = ads(token("xds-reader", "read:default"));
    assertThat(next(allowed)).isInstanceOf(DiscoveryResponse.class);
    call("DELETE", "/v1/tokens/xds-reader", null);
    Object ended = next(allowed);
    assertThat(ended).isInstanceOf(Status.class);
    assertThat(((Status) ended).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(((Status) ended).getDescription()).contains("revoked");
  }
}
