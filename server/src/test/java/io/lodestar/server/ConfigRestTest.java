package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The config REST API against a real server: versions, CAS, formats, long polls, rollback, gray. */
class ConfigRestTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static final String BASE = "/v1/namespaces/default/configs/";

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Http.Response putWithIfMatch(String path, String body, String ifMatch) {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .header("If-Match", ifMatch).PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  @Test
  void publishReadVersionsAndHistory() {
    Http.Response r = http.put(BASE + "app/db.properties?comment=first&author=ann", "url=jdbc:a\nuser=app\n");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(1);
    assertThat(http.put(BASE + "app/db.properties?comment=second", "url=jdbc:b\n").json().get("version").asLong())
        .isEqualTo(2);

    Http.Response got = http.get(BASE + "app/db.properties");
    assertThat(got.status()).isEqualTo(200);
    assertThat(got.body()).isEqualTo("url=jdbc:b\n");
    assertThat(got.headers().firstValue("X-Lodestar-Config-Version")).hasValue("2");
    assertThat(got.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/x-java-properties");
    assertThat(http.get(BASE + "app/db.properties?version=1").body()).isEqualTo("url=jdbc:a\nuser=app\n");
    assertThat(http.get(BASE + "app/db.properties?version=9").status()).isEqualTo(404);

    JsonNode h = http.get(BASE + "app/db.properties/history").json();
    assertThat(h.get("versions")).hasSize(2);
    JsonNode first = h.get("versions").get(1);
    assertThat(first.get("version").asLong()).isEqualTo(1);
    assertThat(first.get("author").asText()).isEqualTo("ann");
    assertThat(first.get("comment").asText()).isEqualTo("first");
    assertThat(first.get("hash").asText()).hasSize(64);
    assertThat(first.get("time").asText()).isNotBlank();
    assertThat(h.get("versions").get(0).get("state").asText()).isEqualTo("released");

    JsonNode list = http.get("/v1/namespaces/default/configs?group=app").json().get("configs");
    assertThat(list.findValuesAsText("name")).contains("db.properties");
    assertThat(list.get(0).get("format").asText()).isEqualTo("properties");
  }

  @Test
  void compareAndSetConflictsStoreNothing() {
    assertThat(putWithIfMatch(BASE + "cas/x.json", "{\"a\":1}", "0").status()).isEqualTo(200);
    Http.Response conflict = putWithIfMatch(BASE + "cas/x.json", "{\"a\":2}", "0");
    assertThat(conflict.status()).isEqualTo(409);
    assertThat(conflict.json().get("error").get("code").asText()).isEqualTo("conflict");
    assertThat(putWithIfMatch(BASE + "cas/x.json", "{\"a\":3}", "\"7\"").status()).isEqualTo(409);
    assertThat(http.get(BASE + "cas/x.json").body()).isEqualTo("{\"a\":1}");
    assertThat(putWithIfMatch(BASE + "cas/x.json", "{\"a\":4}", "1").json().get("version").asLong()).isEqualTo(2);
    assertThat(putWithIfMatch(BASE + "cas/x.json", "{}", "one").status()).isEqualTo(400);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      properties bad unicode escape | properties | a=1\\nb=2\\nc=\\\\u12G4\\n | line 3
      yaml bad indentation          | yaml       | a: 1\\nb:\\n  - x\\n - y\\n   | line 4
      yaml duplicate key            | yaml       | a: 1\\na: 2\\n             | line 2
      json trailing comma           | json       | {\\n  "a": 1,\\n}         | line 3
      json two values               | json       | {}\\n{}                   | line 2
      """)
  void contentIsValidatedAgainstItsFormat(String name, String format, String content, String where) {
    String body = content.replace("\\n", "\n").replace("\\\\", "\\");
    String path = BASE + "formats/" + format + "-" + name.hashCode();
    Http.Response r = http.put(path + "?format=" + format, body);
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    JsonNode err = r.json().get("error");
    assertThat(err.get("code").asText()).isEqualTo("invalid_argument");
    assertThat(err.get("field").asText()).isEqualTo("content");
    assertThat(err.get("message").asText()).contains(where);
    assertThat(http.get(path).status()).isEqualTo(404);
  }

  @Test
  void validContentOfEachFormatIsAccepted() {
    assertThat(http.put(BASE + "formats/ok.yaml", "a:\n  b: [1, 2]\n---\nc: d\n").status()).isEqualTo(200);
    assertThat(http.put(BASE + "formats/ok.json", "{\"a\": [1, {\"b\": null}]}").status()).isEqualTo(200);
    assertThat(http.put(BASE + "formats/ok.properties", "a=\\u0041\nlong=one \\\n  two\n").status()).isEqualTo(200);
    assertThat(http.put(BASE + "formats/ok?format=text", "{ not json").status()).isEqualTo(200);
    assertThat(http.get(BASE + "formats/ok.yaml").headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/yaml");
    assertThat(http.put(BASE + "formats/bad?format=xml", "<a/>").json().get("error").get("field").asText())
        .isEqualTo("format");
    // Every format, text included, must be UTF-8.
    Http.Response binary = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + BASE
        + "formats/bin.txt")).PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'a', (byte) 0xC3, '('})));
    assertThat(binary.status()).isEqualTo(400);
    assertThat(binary.json().get("error").get("message").asText()).contains("UTF-8");
  }

  @Test
  void sizeLimitIsExactlyOneMebibyte() {
    byte[] max = new byte[1 << 20];
    Arrays.fill(max, (byte) 'x');
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + BASE + "big/max"))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(max))).status()).isEqualTo(200);
    byte[] over = Arrays.copyOf(max, max.length + 1);
    Http.Response r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + BASE + "big/over"))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(over)));
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.json().get("error").get("code").asText()).isEqualTo("too_large");
    assertThat(http.get(BASE + "big/over").status()).isEqualTo(404);
  }

  @Test
  void unknownNamespaceAndMissingConfigAre404() {
    Http.Response r = http.put("/v1/namespaces/nope/configs/g/n", "x");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().get("error").get("code").asText()).isEqualTo("not_found");
    assertThat(http.get("/v1/namespaces/nope/configs").status()).isEqualTo(404);
    assertThat(http.get(BASE + "g/missing").status()).isEqualTo(404);
    assertThat(http.put(BASE + "bad%20group/n", "x").status()).isEqualTo(400);
  }

  @Test
  void longPollWakesOnPublishAndAnswers304WhenTheWaitEnds() throws Exception {
    http.put(BASE + "poll/a.txt", "one");
    CompletableFuture<Http.Response> waiting =
        CompletableFuture.supplyAsync(() -> http.get(BASE + "poll/a.txt?index=1&wait=30s"));
    assertThat(http.put(BASE + "poll/a.txt", "two").status()).isEqualTo(200);
    Http.Response woke = waiting.get(30, TimeUnit.SECONDS);
    assertThat(woke.status()).isEqualTo(200);
    assertThat(woke.body()).isEqualTo("two");
    assertThat(woke.headers().firstValue("X-Lodestar-Config-Version")).hasValue("2");

    // Already past the index: answers at once.
    assertThat(http.get(BASE + "poll/a.txt?index=0&wait=30s").body()).isEqualTo("two");
    Http.Response unchanged = http.get(BASE + "poll/a.txt?index=2&wait=50ms");
    assertThat(unchanged.status()).isEqualTo(304);
    assertThat(unchanged.headers().firstValue("X-Lodestar-Config-Version")).hasValue("2");
  }

  @Test
  void rollbackRepublishesAndDeleteRemoves() {
    http.put(BASE + "rb/a.txt", "good");
    http.put(BASE + "rb/a.txt", "bad");
    Http.Response r = http.post(BASE + "rb/a.txt/rollback", "{\"toVersion\":1}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("version").asLong()).isEqualTo(3);
    assertThat(http.get(BASE + "rb/a.txt").body()).isEqualTo("good");
    JsonNode latest = http.get(BASE + "rb/a.txt/history").json().get("versions").get(0);
    assertThat(latest.get("rollbackOf").asLong()).isEqualTo(1);
    assertThat(http.post(BASE + "rb/a.txt/rollback", "{\"toVersion\":0}").json().get("error").get("field").asText())
        .isEqualTo("toVersion");
    assertThat(http.post(BASE + "rb/a.txt/rollback", "{\"toVersion\":42}").status()).isEqualTo(404);

    assertThat(http.delete(BASE + "rb/a.txt").json().get("version").asLong()).isEqualTo(4);
    assertThat(http.get(BASE + "rb/a.txt").status()).isEqualTo(404);
    assertThat(http.delete(BASE + "rb/a.txt").status()).isEqualTo(404);
    // Versions continue after a re-creation, so nobody ever sees one go back.
    assertThat(http.put(BASE + "rb/a.txt", "new").json().get("version").asLong()).isEqualTo(5);
  }

  @Test
  void historyIsCappedPerConfig() {
    for (int i = 0; i < 5; i++) {
      http.put(BASE + "cap/a.txt?keep=3", "v" + i);
    }
    JsonNode versions = http.get(BASE + "cap/a.txt/history").json().get("versions");
    assertThat(versions.findValuesAsText("version")).containsExactly("5", "4", "3");
    assertThat(http.put(BASE + "cap/a.txt?keep=0", "x").status()).isEqualTo(400);
  }

  @Test
  void grayReleaseSelectsClientsThenPromoteOrAbort() {
    String path = BASE + "gray/app.yaml";
    http.put(path, "color: blue\n");
    Http.Response g = http.put(path + "/gray?labels=zone=sh&addresses=10.9.9.9", "color: green\n");
    assertThat(g.status()).as(g.body()).isEqualTo(200);
    assertThat(g.json().get("version").asLong()).isEqualTo(2);

    Http.Response inGray = http.get(path + "?clientId=c-sh&labels=zone=sh");
    assertThat(inGray.body()).isEqualTo("color: green\n");
    assertThat(inGray.headers().firstValue("X-Lodestar-Config-Gray")).hasValue("true");
    assertThat(http.get(path + "?clientId=c-bj&labels=zone=bj").body()).isEqualTo("color: blue\n");
    assertThat(http.get(path).body()).isEqualTo("color: blue\n");
    // A release while the candidate is out is refused.
    assertThat(http.put(path, "color: red\n").status()).isEqualTo(409);

    JsonNode status = http.get(path + "/gray").json();
    assertThat(status.get("active").asBoolean()).isTrue();
    assertThat(status.get("candidateVersion").asLong()).isEqualTo(2);
    assertThat(status.get("selector").get("labels").get("zone").asText()).isEqualTo("sh");
    assertThat(status.get("clients").findValuesAsText("clientId")).containsExactly("c-bj", "c-sh");
    for (JsonNode c : status.get("clients")) {
      assertThat(c.get("version").asLong()).isEqualTo(c.get("clientId").asText().equals("c-sh") ? 2 : 1);
    }

    assertThat(http.post(path + "/gray/promote", "").json().get("version").asLong()).isEqualTo(2);
    assertThat(http.get(path).body()).isEqualTo("color: green\n");
    assertThat(http.post(path + "/gray/promote", "").status()).isEqualTo(409);

    http.put(path + "/gray?percent=100", "color: pink\n");
    assertThat(http.get(path + "?clientId=anyone").body()).isEqualTo("color: pink\n");
    JsonNode aborted = http.post(path + "/gray/abort", "").json();
    assertThat(aborted.get("version").asLong()).isEqualTo(4);
    assertThat(http.get(path + "?clientId=anyone").body()).isEqualTo("color: green\n");
    assertThat(http.put(path + "/gray", "x: 1\n").json().get("error").get("field").asText()).isEqualTo("gray");
    assertThat(http.put(path + "/gray?percent=101", "x: 1\n").json().get("error").get("field").asText())
        .isEqualTo("gray.percent");
  }

  @Test
  void percentageGraySplitsClientsByAStableHash() {
    String path = BASE + "gray/pct.txt";
    http.put(path, "old");
    http.put(path + "/gray?percent=30", "new");
    int chosen = 0;
    for (int i = 0; i < 200; i++) {
      String body = http.get(path + "?clientId=client-" + i).body();
      assertThat(http.get(path + "?clientId=client-" + i).body()).isEqualTo(body);
      if (body.equals("new")) {
        chosen++;
      }
    }
    assertThat(chosen).isBetween(20, 100);
  }
}
