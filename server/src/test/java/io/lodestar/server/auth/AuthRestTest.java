package io.lodestar.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.Http;
import io.lodestar.server.LodestarServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real node started with --auth: tokens, REST denials, revocation, bootstrap, audit, restart. */
class AuthRestTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static ByteArrayOutputStream printed = new ByteArrayOutputStream();
  static Http anonymous;
  static Http admin;
  static String adminSecret;

  @BeforeAll
  static void start() throws Exception {
    server = start(dir.resolve("data"));
    Path file = dir.resolve("data").resolve("bootstrap-token");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
    adminSecret = Files.readString(file).trim();
    anonymous = new Http(server.port());
    admin = anonymous.withToken(adminSecret);
  }

  static LodestarServer start(Path data) {
    return LodestarServer.builder().port(0).dataDir(data).auth(true).metricsOpen(false)
        .bootstrapOut(new PrintStream(printed, true, StandardCharsets.UTF_8)).build().start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static String create(String name, String... policies) {
    Http.Response r = admin.post("/v1/tokens", "{\"name\":\"" + name + "\",\"policies\":[\""
        + String.join("\",\"", policies) + "\"]}");
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().path("policies").size()).isEqualTo(policies.length);
    return r.json().path("secret").asText();
  }

  @Test
  void bootstrapTokenIsAdminPrintedOnceAndReadableOnlyByTheOwner() throws Exception {
    Path file = dir.resolve("data").resolve("bootstrap-token");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    String out = printed.toString(StandardCharsets.UTF_8);
    assertThat(out.split(java.util.regex.Pattern.quote(adminSecret), -1)).hasSize(2); // exactly once
    assertThat(admin.get("/v1/tokens").json().path("tokens").get(0).path("policies").get(0).asText()).isEqualTo("admin");
    assertThat(admin.get("/v1/tokens").body()).doesNotContain(adminSecret).doesNotContain("sha256");
  }

  @Test
  void missingTokenIs401InsufficientIs403NamingThePermissionAndNothingChanges() {
    String reader = create("reader-a", "read:default");
    String body = "{\"host\":\"10.0.0.1\",\"port\":8080}";

    Http.Response none = anonymous.post("/v1/namespaces/default/services/orders-a/instances", body);
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.json().path("error").path("code").asText()).isEqualTo("unauthenticated");
    assertThat(none.json().path("error").path("permission").asText()).isEqualTo("write:default");

    Http.Response weak = anonymous.withToken(reader).post("/v1/namespaces/default/services/orders-a/instances", body);
    assertThat(weak.status()).isEqualTo(403);
    assertThat(weak.json().path("error").path("code").asText()).isEqualTo("permission_denied");
    assertThat(weak.json().path("error").path("permission").asText()).isEqualTo("write:default");
    assertThat(weak.json().path("error").path("message").asText()).contains("reader-a").contains("write:default");

    Http.Response forged = anonymous.withToken("lds_not-a-token").get("/v1/namespaces/default/services");
    assertThat(forged.status()).isEqualTo(401);
    assertThat(forged.json().path("error").path("permission").asText()).isEqualTo("read:default"); // as for none
    assertThat(anonymous.withToken("lds_not-a-token").post("/v1/tokens", "{}").json().path("error")
        .path("permission").asText()).isEqualTo("admin");

    // nothing changed, and the reader may read
    Http.Response list = anonymous.withToken(reader).get("/v1/namespaces/default/services/orders-a/instances");
    assertThat(list.status()).isIn(200, 404);
    assertThat(list.body()).doesNotContain("10.0.0.1");
    // a token for one namespace reaches no other, nor admin routes
    assertThat(anonymous.withToken(reader).get("/v1/namespaces/other/services").status()).isEqualTo(403);
    assertThat(anonymous.withToken(reader).post("/v1/namespaces", "{\"name\":\"x\"}").status()).isEqualTo(403);
    assertThat(anonymous.withToken(reader).get("/v1/tokens").status()).isEqualTo(403);
    // liveness stays open; /metrics here needs a token (--metrics-open=false; open on loopback by default)
    assertThat(anonymous.get("/health").status()).isEqualTo(200);
    // a member's own state: cluster-internal (a single node has no members: admin only)
    assertThat(anonymous.get("/v1/cluster/node").status()).isEqualTo(401);
    assertThat(anonymous.withToken(reader).get("/v1/cluster/node").status()).isEqualTo(403);
    assertThat(admin.get("/v1/cluster/node").status()).isEqualTo(200);
    assertThat(anonymous.get("/v1/cluster").status()).isEqualTo(401);
    assertThat(anonymous.get("/metrics").status()).isEqualTo(401);
    assertThat(anonymous.withToken(reader).get("/metrics").status()).isEqualTo(200);
  }

  @Test
  void aWriterWritesItsNamespaceAndPatternsMatch() {
    String writer = create("writer-b", "write:team-*");
    admin.post("/v1/namespaces", "{\"name\":\"team-b\"}");
    Http.Response ok = anonymous.withToken(writer).post("/v1/namespaces/team-b/services/pay/instances",
        "{\"host\":\"10.0.0.2\",\"port\":8080}");
    assertThat(ok.status()).as(ok.body()).isEqualTo(201);
    assertThat(anonymous.withToken(writer).get("/v1/namespaces/team-b/services/pay/instances").body()).contains("10.0.0.2");
    assertThat(anonymous.withToken(writer).post("/v1/namespaces/default/services/pay/instances",
        "{\"host\":\"10.0.0.2\",\"port\":8080}").status()).isEqualTo(403);
    // X-Lodestar-Token works as well as Authorization: Bearer
    Http.Response viaHeader = anonymous.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + server.port() + "/v1/namespaces/team-b/services"))
        .header("X-Lodestar-Token", writer).GET());
    assertThat(viaHeader.status()).isEqualTo(200);
  }

  @Test
  void badTokenRequestsAre400NamingTheField() {
    Http.Response bad = admin.post("/v1/tokens", "{\"name\":\"x\",\"policies\":[\"delete:everything\"]}");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().path("error").path("field").asText()).isEqualTo("policies");
    assertThat(admin.post("/v1/tokens", "{\"name\":\"x y\",\"policies\":[\"admin\"]}").json()
        .path("error").path("field").asText()).isEqualTo("name");
    assertThat(admin.get("/v1/tokens").body()).doesNotContain("\"x\"");
    assertThat(admin.delete("/v1/tokens/nobody").status()).isEqualTo(404);
  }

  @Test
  void revokingATokenRefusesItAndEndsItsOpenLongPollAtOnce() throws Exception {
    String watcher = create("watcher-c", "read:default");
    Http w = anonymous.withToken(watcher);
    assertThat(w.get("/v1/namespaces/default/services").status()).isEqualTo(200);
    // a long poll that would wait ten minutes
    CompletableFuture<Object> poll = CompletableFuture.supplyAsync(() -> {
      try {
        return w.get("/v1/namespaces/default/services/idle-c/instances?index=0&wait=10m");
      } catch (RuntimeException e) {
        return e;
      }
    });
    Revocations r = server.revocations();
    await().atMost(Duration.ofSeconds(30)).until(() -> r.openCount("watcher-c") == 1);

    assertThat(admin.delete("/v1/tokens/watcher-c").status()).isEqualTo(200);
    Object ended = poll.get(30, java.util.concurrent.TimeUnit.SECONDS);
    if (ended instanceof Http.Response resp) {
      assertThat(resp.status()).isEqualTo(401); // ended by the revocation, not a 200 with data
      assertThat(resp.json().path("error").path("message").asText()).contains("revoked");
    }
    assertThat(w.get("/v1/namespaces/default/services").status()).isEqualTo(401);
    assertThat(admin.get("/v1/tokens").body()).doesNotContain("watcher-c");
  }

  @Test
  void aTokenThatRevokesItselfGetsItsAnswerAndIsRefusedAfter() throws Exception {
    String self = create("self-e", "admin");
    Http s = anonymous.withToken(self);
    // a long poll of its own still ends: only the revoking request is answered
    CompletableFuture<Object> poll = CompletableFuture.supplyAsync(() -> {
      try {
        return s.get("/v1/namespaces/default/services/idle-e/instances?index=0&wait=10m");
      } catch (RuntimeException e) {
        return e;
      }
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> server.revocations().openCount("self-e") == 1);

    Http.Response revoked = s.delete("/v1/tokens/self-e");
    assertThat(revoked.status()).as(revoked.body()).isEqualTo(200); // the write was done: say so
    assertThat(revoked.json().path("revoked").asText()).isEqualTo("self-e");
    Object ended = poll.get(30, java.util.concurrent.TimeUnit.SECONDS);
    if (ended instanceof Http.Response resp) {
      assertThat(resp.status()).isEqualTo(401);
    }
    assertThat(s.get("/v1/namespaces/default/services").status()).isEqualTo(401);
    assertThat(admin.get("/v1/tokens").body()).doesNotContain("self-e");
  }

  @Test
  void auditRecordsWhoWroteWhatWhenAndFromWhere() {
    long before = System.currentTimeMillis() - 1;
    String writer = create("auditor-d", "write:default");
    assertThat(anonymous.withToken(writer).post("/v1/namespaces/default/services/audited-d/instances",
        "{\"host\":\"10.0.0.4\",\"port\":8080}").status()).isEqualTo(201);
    assertThat(anonymous.withToken(writer).put("/v1/namespaces/default/configs/app/audited-d.yaml",
        "a: 1\n").status()).isIn(200, 201);
    assertThat(anonymous.withToken(writer).put("/v1/namespaces/default/services/audited-d/rules/loadbalance",
        "{\"policy\":\"round_robin\"}").status()).isIn(200, 201);

    assertThat(anonymous.withToken(writer).get("/v1/audit").status()).isEqualTo(403);
    JsonNode entries = admin.get("/v1/audit?ns=default&since=" + before).json().path("entries");
    assertThat(entries).anySatisfy(e -> {
      assertThat(e.path("action").asText()).isEqualTo("register_instance");
      assertThat(e.path("actor").asText()).isEqualTo("auditor-d");
      assertThat(e.path("source").asText()).isEqualTo("127.0.0.1");
      assertThat(e.path("target").asText()).startsWith("audited-d/");
    });
    assertThat(entries).anySatisfy(e -> assertThat(e.path("action").asText() + " " + e.path("target").asText())
        .isEqualTo("publish_config app/audited-d.yaml"));
    assertThat(entries).anySatisfy(e -> assertThat(e.path("action").asText()).isEqualTo("put_rules"));
    JsonNode all = admin.get("/v1/audit?since=" + before).json().path("entries");
    assertThat(all).anySatisfy(e -> {
      assertThat(e.path("action").asText() + " " + e.path("target").asText()).isEqualTo("create_token auditor-d write:default");
      assertThat(e.path("actor").asText()).isEqualTo("bootstrap");
      assertThat(e.path("namespace").asText()).isEmpty();
    });
    assertThat(admin.get("/v1/audit?since=yesterday").status()).isEqualTo(400);
    // instants past what epoch milliseconds hold are refused by name too, not a 500
    for (String since : List.of("%2B999999999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z")) {
      Http.Response far = admin.get("/v1/audit?since=" + since);
      assertThat(far.status()).as(far.body()).isEqualTo(400);
      assertThat(far.json().path("error").path("field").asText()).isEqualTo("since");
    }
  }

  static Http.Response form(String path, String cookie, String body) {
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return anonymous.send(b);
  }

  static Http.Response page(String path, String cookie) {
    return anonymous.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + server.port() + path)).header("Cookie", cookie).GET());
  }

  static String login(String secret) {
    Http.Response ok = form("/ui/login", null, "token=" + java.net.URLEncoder.encode(secret, StandardCharsets.UTF_8));
    assertThat(ok.status()).isEqualTo(303);
    String setCookie = ok.headers().firstValue("set-cookie").orElseThrow();
    assertThat(setCookie).startsWith("lodestar_token=").containsIgnoringCase("HttpOnly")
        .containsIgnoringCase("SameSite=Strict").contains("Path=/ui");
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  @Test
  void theConsoleLogsInWithATokenKeptInAStrictCookieAndWritesWithItsPermissions() {
    Http.Response unauth = anonymous.get("/ui/");
    assertThat(unauth.status()).isEqualTo(303);
    assertThat(unauth.headers().firstValue("location")).hasValue("/ui/login");
    assertThat(anonymous.get("/ui/login").body()).contains("name=\"token\"");
    assertThat(form("/ui/login", null, "token=lds_wrong").status()).isEqualTo(401);

    String adminCookie = login(adminSecret);
    assertThat(page("/ui/", adminCookie).status()).isEqualTo(200);
    Http.Response reg = admin.post("/v1/namespaces/default/services/console-f/instances", "{\"host\":\"10.0.0.6\",\"port\":80}");
    String id = reg.json().path("id").asText();

    String readerCookie = login(create("console-reader-f", "read:default"));
    assertThat(page("/ui/services/default/console-f", readerCookie).status()).isEqualTo(200);
    assertThat(page("/ui/cluster", readerCookie).status()).isEqualTo(403);
    // a write through the console is the API's write with the same token: refused, nothing changes
    Http.Response refused = form("/ui/services/default/console-f/instances/" + id + "/weight", readerCookie, "weight=7");
    assertThat(refused.body()).contains("write:default");
    assertThat(admin.get("/v1/namespaces/default/services/console-f/instances").body()).doesNotContain("\"weight\":7");
    form("/ui/services/default/console-f/instances/" + id + "/weight", adminCookie, "weight=7");
    assertThat(admin.get("/v1/namespaces/default/services/console-f/instances").body()).contains("\"weight\":7");
  }

  @Test
  void aNonLoopbackBindWithoutAuthIsRefused() {
    assertThatThrownBy(() -> LodestarServer.builder().bind("0.0.0.0").port(0).dataDir(dir.resolve("never")).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--auth").hasMessageContaining("--insecure");
    int code = new picocli.CommandLine(new io.lodestar.server.Main()).execute("--bind", "0.0.0.0", "--port", "0",
        "--data-dir", dir.resolve("never").toString());
    assertThat(code).isEqualTo(1);
    assertThat(Files.exists(dir.resolve("never"))).isFalse();
    // explicit --insecure, or auth, is allowed
    LodestarServer.builder().bind("0.0.0.0").port(0).dataDir(dir.resolve("never")).insecure(true).build();
    LodestarServer.builder().bind("0.0.0.0").port(0).dataDir(dir.resolve("never")).auth(true).build();
  }

  @Test
  void tokensSurviveARestartAndTheBootstrapTokenIsNotPrintedAgain() {
    String keeper = create("keeper-e", "read:default");
    server.close();
    server = start(dir.resolve("data"));
    anonymous = new Http(server.port());
    admin = anonymous.withToken(adminSecret);
    assertThat(anonymous.withToken(keeper).get("/v1/namespaces/default/services").status()).isEqualTo(200);
    assertThat(admin.get("/v1/tokens").status()).isEqualTo(200);
    String out = printed.toString(StandardCharsets.UTF_8);
    assertThat(out.split("Bootstrap admin token", -1)).hasSize(2);
  }

}
