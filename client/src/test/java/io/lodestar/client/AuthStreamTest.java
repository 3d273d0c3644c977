package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK against a server started with --auth: call credentials, per-request checks, revocation. */
class AuthStreamTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static String admin;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    server = LodestarServer.builder().port(0).dataDir(dir).auth(true)
        .bootstrapOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).build().start();
    Path file = dir.resolve("bootstrap-token");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
    admin = Files.readString(file).trim();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String token(String name, String policy) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/tokens"))
        .header("Authorization", "Bearer " + admin)
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\",\"policies\":[\"" + policy + "\"]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new ObjectMapper().readTree(r.body()).path("secret").asText();
  }

  static int revoke(String name) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/tokens/" + name))
        .header("Authorization", "Bearer " + admin).DELETE().build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  static LodestarClient client(String token) {
    return LodestarClient.builder().servers("127.0.0.1:" + server.port()).token(token)
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500)).build();
  }

  @Test
  void withoutATokenTheStreamIsRefused() {
    try (LodestarClient c = client(null)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> c.status().detail().contains("token"));
      assertThat(c.status().state()).isNotEqualTo(ClientStatus.State.CONNECTED);
    }
  }

  @Test
  void eachRequestIsCheckedAgainstTheTokensPolicies() throws Exception {
    try (LodestarClient reader = client(token("sdk-reader", "read:default"));
         LodestarClient writer = client(token("sdk-writer", "write:default"))) {
      writer.register(RegistrationSpec.builder().service("auth-pay").host("10.0.0.9").port(8080).build());
      assertThat(reader.fetch("default", "auth-pay").instances()).hasSize(1);
      assertThatThrownBy(() -> reader.register(RegistrationSpec.builder().service("auth-pay").host("10.0.0.8").port(8080).build()))
          .isInstanceOf(LodestarClientException.class).hasMessageContaining("write:default");
      assertThatThrownBy(() -> reader.fetch("other", "auth-pay"))
          .isInstanceOf(LodestarClientException.class).hasMessageContaining("read:other");
      // the refused request changed nothing, and the stream stays up for the allowed ones
      assertThat(reader.fetch("default", "auth-pay").instances()).hasSize(1);
      assertThat(reader.status().state()).isEqualTo(ClientStatus.State.CONNECTED);
    }
  }

  @Test
  void revokingTheTokenClosesItsOpenStreamAndWatchAtOnce() throws Exception {
    try (LodestarClient c = client(token("sdk-revoked", "write:default"))) {
      c.register(RegistrationSpec.builder().service("auth-watch").host("10.0.0.7").port(8080).build());
      CopyOnWriteArrayList<ServiceEvent> events = new CopyOnWriteArrayList<>();
      c.subscribe("default", "auth-watch", events::add);
      await().atMost(Duration.ofSeconds(30)).until(() -> c.status().state() == ClientStatus.State.CONNECTED
          && server.revocations().openCount("sdk-revoked") == 1);

      assertThat(revoke("sdk-revoked")).isEqualTo(200);
      // the server ends the stream when the revocation applies; reconnects are refused from then on
      await().atMost(Duration.ofSeconds(30)).until(() -> server.revocations().openCount("sdk-revoked") == 0
          && c.status().state() != ClientStatus.State.CONNECTED);
      assertThat(c.status().detail()).contains("UNAUTHENTICATED").contains("revoked");
    }
  }

  @Test
  void secretConfigsReachOnlyTokensWithSecretsOnTheNamespace() throws Exception {
    HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/v1/namespaces/default/configs/app/auth-db.properties?secret=true"))
        .header("Authorization", "Bearer " + admin).PUT(HttpRequest.BodyPublishers.ofString("password=hunter2\n")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    try (LodestarClient reader = client(token("sdk-cfg-reader", "read:default"));
         LodestarClient vault = client(token("sdk-cfg-vault", "secrets:default"))) {
      assertThat(reader.configs().get("default", "app", "auth-db.properties").content()).isEqualTo("******");
      assertThat(vault.configs().get("default", "app", "auth-db.properties").content()).isEqualTo("password=hunter2\n");
    }
  }
}
