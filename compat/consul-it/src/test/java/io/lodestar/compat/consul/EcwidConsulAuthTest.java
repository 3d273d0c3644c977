package io.lodestar.compat.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.OperationException;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.agent.model.NewService;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ecwid consul-api client against a server started with --auth: Consul's token carriers, 401 and 403. */
class EcwidConsulAuthTest {
  // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call
  private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path dir;
  static LodestarServer server;
  static ConsulClient consul;
  static String admin;

  @BeforeAll
  static void start() throws Exception {
    server = LodestarServer.builder().port(0).dataDir(dir).auth(true)
        .bootstrapOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).build().start();
    consul = new ConsulClient("127.0.0.1", server.port());
    Path file = dir.resolve("bootstrap-token");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
    admin = Files.readString(file).trim();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String token(String name, String policy) throws Exception {
    HttpResponse<String> r = HTTP1.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + "/v1/tokens")).header("Authorization", "Bearer " + admin)
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\",\"policies\":[\"" + policy + "\"]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new ObjectMapper().readTree(r.body()).path("secret").asText();
  }

  static NewService service(String id) {
    NewService s = new NewService();
    s.setName("secure-web");
    s.setId(id);
    s.setAddress("127.0.0.1");
    s.setPort(9200);
    return s;
  }

  static int health(String token) {
    return consul.getHealthServices("secure-web", HealthServicesRequest.newBuilder().setToken(token)
        .setQueryParams(QueryParams.DEFAULT).build()).getValue().size();
  }

  @Test
  void tokensGateReadsAndWritesAsInConsul() throws Exception {
    String reader = token("consul-reader", "read:default");
    String writer = token("consul-writer", "write:default");

    OperationException none = catchThrowableOfType(OperationException.class,
        () -> consul.agentServiceRegister(service("w-0")));
    assertThat(none.getStatusCode()).isEqualTo(401);
    OperationException weak = catchThrowableOfType(OperationException.class,
        () -> consul.agentServiceRegister(service("w-0"), reader));
    assertThat(weak.getStatusCode()).isEqualTo(403);
    assertThat(weak.getStatusContent()).contains("write:default");
    OperationException forged = catchThrowableOfType(OperationException.class,
        () -> consul.agentServiceRegister(service("w-0"), "lds_forged"));
    assertThat(forged.getStatusCode()).isEqualTo(401);

    consul.agentServiceRegister(service("w-1"), writer);  // X-Consul-Token
    assertThat(health(reader)).isEqualTo(1);
    OperationException anonymousRead = catchThrowableOfType(OperationException.class, () -> health(null));
    assertThat(anonymousRead.getStatusCode()).isEqualTo(401);

    // KV: the writer writes, the reader reads, the reader may not write
    assertThat(consul.setKVValue("feature/x", "on", writer, null).getValue()).isTrue();
    assertThat(consul.getKVValue("feature/x", reader).getValue().getDecodedValue()).isEqualTo("on");
    OperationException kvWeak = catchThrowableOfType(OperationException.class,
        () -> consul.setKVValue("feature/x", "off", reader, null));
    assertThat(kvWeak.getStatusCode()).isEqualTo(403);
    assertThat(consul.getKVValue("feature/x", reader).getValue().getDecodedValue()).isEqualTo("on");
  }
}
