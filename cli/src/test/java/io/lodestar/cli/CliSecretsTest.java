package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lodestar secrets rotate} against a real server: every kept version of a secret config is
 * re-encrypted under a new key through the log; the content reads the same, before and after a
 * restart; {@code secret.key} is the new key and the old one is kept in {@code secret-keys/}.
 */
class CliSecretsTest {
  // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call
  private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final String PATH = "/v1/namespaces/default/configs/app/db.properties";
  @TempDir Path dir;


  private static HttpResponse<String> get(int port, String query) throws Exception {
    return HTTP1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + PATH + query))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int put(int port, String query, String body) throws Exception {
    return HTTP1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + PATH + query))
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void rotateReencryptsEverySecretVersionAndKeepsTheOldKey() throws Exception {
    byte[] oldKey;
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dir).build().start()) {
      int port = server.port();
      assertThat(put(port, "?secret=true", "password=one")).isEqualTo(200);
      assertThat(put(port, "", "password=two")).isEqualTo(200);
      oldKey = Files.readAllBytes(dir.resolve("secret.key"));

      CliRun r = CliRun.run(Map.of(), "secrets", "rotate", "--server", "127.0.0.1:" + port).expect(0);
      assertThat(r.out()).contains("2 versions of 1 secret configs re-encrypted");
      assertThat(get(port, "").body()).isEqualTo("password=two");
      assertThat(get(port, "?version=1").body()).isEqualTo("password=one");
      assertThat(put(port, "", "password=three")).isEqualTo(200);  // written with the new key

      CliRun again = CliRun.run(Map.of(), "secrets", "rotate", "--server", "127.0.0.1:" + port, "--json").expect(0);
      assertThat(again.out()).contains("\"versions\" : 3");
    }
    byte[] newKey = Files.readAllBytes(dir.resolve("secret.key"));
    assertThat(newKey).hasSize(32).isNotEqualTo(oldKey);
    try (var kept = Files.list(dir.resolve("secret-keys"))) {
      assertThat(kept.map(p -> {
        try {
          return Files.readAllBytes(p);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList()).anySatisfy(k -> assertThat(k).isEqualTo(oldKey)).hasSize(3);
    }
    // the log replays the re-encryptions: after a restart everything still reads
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dir).build().start()) {
      assertThat(get(server.port(), "").body()).isEqualTo("password=three");
      assertThat(get(server.port(), "?version=1").body()).isEqualTo("password=one");
    }
  }
}
