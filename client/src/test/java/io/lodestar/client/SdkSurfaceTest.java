package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.lodestar.client.internal.Logs;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The SDK as an application meets it (issue 13): a default namespace on the builder, persistent
 * registration, REST's 404 for a namespace that does not exist, and log lines through SLF4J.
 * Real server and real SDK on loopback; REST checked beside it with an HTTP client.
 */
class SdkSurfaceTest {
  @TempDir
  static Path dataDir;
  static TestServer server;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private final List<LodestarClient> clients = new ArrayList<>();

  @BeforeAll
  static void startServer() {
    server = TestServer.start(dataDir);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @AfterEach
  void closeClients() {
    clients.forEach(LodestarClient::close);
  }

  private LodestarClient client(String namespace) {
    LodestarClient.Builder b = LodestarClient.builder().servers(server.address());
    if (namespace != null) {
      b.namespace(namespace);
    }
    LodestarClient c = b.build();
    clients.add(c);
    return c;
  }

  private static HttpResponse<String> rest(String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.address() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void callsWithoutANamespaceUseTheBuildersOne() throws Exception {
    assertThat(rest("POST", "/v1/namespaces", "{\"name\":\"shop\"}").statusCode()).isEqualTo(201);
    LodestarClient shop = client("shop");
    assertThat(shop.namespace()).isEqualTo("shop");
    assertThat(shop.configs().namespace()).isEqualTo("shop");

    Instance i = shop.register(RegistrationSpec.builder().service("cart").host("10.3.0.1").port(80).build());
    assertThat(i.namespace()).isEqualTo("shop");
    assertThat(rest("GET", "/v1/namespaces/shop/services/cart/instances", null).body()).contains("10.3.0.1");
    assertThat(shop.getInstances("cart")).extracting(Instance::id).containsExactly("10.3.0.1:80");
    assertThat(shop.selectOne("cart").id()).isEqualTo("10.3.0.1:80");
    assertThat(shop.fetch("cart").instances()).hasSize(1);

    // a client left at the default sees "default", where nothing was registered
    LodestarClient plain = client(null);
    assertThat(plain.namespace()).isEqualTo("default");
    assertThat(plain.getInstances("cart")).isEmpty();
    assertThat(plain.getInstances("shop", "cart")).hasSize(1);

    shop.deregister("cart", "10.3.0.1:80");
    await().atMost(Duration.ofSeconds(30)).until(() -> plain.getInstances("shop", "cart").isEmpty());
  }

  @Test
  void anUnknownNamespaceIsNotFoundAsInRest() throws Exception {
    assertThat(rest("GET", "/v1/namespaces/ghost/services/x/instances", null).statusCode()).isEqualTo(404);
    LodestarClient c = client(null);
    for (int attempt = 0; attempt < 2; attempt++) {  // the second read asks the server again
      assertThatThrownBy(() -> c.getInstances("ghost", "x"))
          .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
    }
    assertThatThrownBy(() -> c.selectOne("ghost", "x"))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));

    // a service that does not exist yet, in a namespace that does: an empty list, as REST's 200 []
    assertThat(rest("GET", "/v1/namespaces/default/services/not-yet/instances", null).statusCode()).isEqualTo(200);
    assertThat(c.getInstances("not-yet")).isEmpty();

    // once the namespace exists, the same client reads it
    assertThat(rest("POST", "/v1/namespaces", "{\"name\":\"ghost\"}").statusCode()).isEqualTo(201);
    assertThat(c.getInstances("ghost", "x")).isEmpty();
  }

  @Test
  void aPersistentInstanceOutlivesItsClientUntilDeregistered() throws Exception {
    LodestarClient registrar = client(null);
    Instance p = registrar.register(RegistrationSpec.builder().service("ledger").host("10.4.0.1").port(5432)
        .persistent(true).build());
    assertThat(p.ephemeral()).isFalse();
    assertThat(p.owner()).isEmpty();
    registrar.close();  // Goodbye: ephemeral instances go, this one stays

    LodestarClient reader = client(null);
    assertThat(reader.fetch("ledger").instances()).extracting(Instance::id).containsExactly("10.4.0.1:5432");
    assertThat(rest("GET", "/v1/namespaces/default/services/ledger/instances", null).body())
        .contains("\"ephemeral\":false");
    reader.deregister("ledger", "10.4.0.1:5432");
    assertThat(reader.fetch("ledger").instances()).isEmpty();
  }

  @Test
  void aPersistentInstanceIsProbedByItsCheck() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    LodestarClient c = client(null);
    c.register(RegistrationSpec.builder().service("probed").host("127.0.0.1").port(closed).persistent(true)
        .check(HealthCheck.tcp().interval(Duration.ofSeconds(1)).timeout(Duration.ofSeconds(1))).build());
    // nothing listens there: the server's probe marks it unhealthy
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(c.getInstances("probed"))
        .singleElement().satisfies(i -> assertThat(i.health()).isEqualTo(Instance.Health.UNHEALTHY)));
  }

  @Test
  void specsRefuseWhatTheirKindCannotHave() {
    assertThatThrownBy(() -> RegistrationSpec.builder().service("s").host("h").port(1).check(HealthCheck.tcp()).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("check ");
    assertThatThrownBy(() -> RegistrationSpec.builder().service("s").host("h").port(1).persistent(true).ttlSeconds(5)
        .build()).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ttlSeconds ");
    assertThatThrownBy(() -> HealthCheck.http("health")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("check.path ");
    assertThatThrownBy(() -> LodestarClient.builder().namespace("bad name"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
  }

  @Test
  void logLinesGoThroughSlf4jWhenTheApplicationHasIt() {
    assertThat(Logs.viaSlf4j()).isTrue();
    Logger sdk = (Logger) LoggerFactory.getLogger(LodestarClient.class.getName());
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    sdk.addAppender(seen);
    try {
      LodestarClient c = client(null);
      await().atMost(Duration.ofSeconds(30)).until(() -> c.status().state() == ClientStatus.State.CONNECTED);
      // the status change is logged at INFO, formatted (no {0} left), on the application's appender
      await().atMost(Duration.ofSeconds(30)).until(() -> List.copyOf(seen.list).stream()
          .anyMatch(e -> e.getFormattedMessage().contains(server.address()) && !e.getFormattedMessage().contains("{0}")));
    } finally {
      sdk.detachAppender(seen);
    }
  }
}
