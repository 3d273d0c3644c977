package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's HTTP surface without a browser (the browser tests are in e2e/). */
class ConsoleTest {
  // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call
  private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void rootRedirectsToTheConsoleAndAssetsComeFromTheJar() {
    Http.Response r = http.get("/");
    assertThat(r.status()).isEqualTo(307);
    assertThat(r.headers().firstValue("location")).hasValue("/ui/");
    assertThat(http.get("/ui/").body()).contains("<title>Overview · Lodestar</title>");
    assertThat(http.get("/ui/webjars/htmx.org/2.0.10/dist/htmx.min.js").status()).isEqualTo(200);
    assertThat(http.get("/ui/webjars/htmx-ext-sse/2.2.2/sse.js").status()).isEqualTo(200);
    assertThat(http.get("/ui/assets/console.css").status()).isEqualTo(200);
  }

  @Test
  void everythingShownIsEscaped() {
    http.post("/v1/namespaces/default/services/esc/instances",
        "{\"id\":\"e1\",\"host\":\"h\",\"port\":1,\"metadata\":{\"note\":\"<script>alert(1)</script>\"}}");
    String page = http.get("/ui/services/default/esc").body();
    assertThat(page).contains("note=&lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain("<script>alert");
  }

  @Test
  void secretContentNeverReachesTheBrowser() {
    http.put("/v1/namespaces/default/configs/vault/db.properties?secret=true", "password=hunter2-very-secret");
    String editor = http.get("/ui/configs/default/vault/db.properties").body();
    assertThat(editor).contains("secret (content hidden)").doesNotContain("hunter2");
    assertThat(http.get("/ui/configs/default/vault/db.properties/history").body()).doesNotContain("hunter2");
    assertThat(http.get("/ui/configs/default/vault/db.properties/gray").body()).doesNotContain("hunter2");
  }

  @Test
  void aFormatErrorComesBackWithItsLine() {
    Http.Response r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/ui/configs/validate")).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("format=json&content=%7B%0A%22a%22%3A%7D")));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("invalid json at line 2").contains("data-field=\"content\"");
  }

  @Test
  void theChangeFeedIsServerSentEventsAndConfigPublishesAreCounted() throws Exception {
    HttpResponse<java.util.stream.Stream<String>> feed = HTTP1.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + "/ui/events")).build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(feed.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
    java.util.Iterator<String> lines = feed.body().iterator();
    http.put("/v1/namespaces/default/configs/g/c.properties", "a=1");
    // other tests' changes may come first: read until the config event, bounded in time
    java.util.concurrent.CompletableFuture<String> config = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      String e;
      do {
        e = lines.next().replace(" ", "");
      } while (!e.equals("event:config"));
      return e;
    });
    assertThat(config.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("event:config");
    feed.body().close();
    await().untilAsserted(() -> assertThat(http.get("/metrics").body()).containsPattern(
        "(?m)^lodestar_config_publishes_total(\\{[^}]*\\})? [1-9]"));
  }
}
