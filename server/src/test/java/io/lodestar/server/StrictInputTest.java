package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input is refused with a 400 naming the field, and nothing is stored: each case here was
 * once accepted as something other than what was sent (issue 12, #6).
 */
class StrictInputTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static final String SVC = "/v1/namespaces/default/services/";
  static final String CFG = "/v1/namespaces/default/configs/";

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static void refused(Http.Response r, String field) {
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    assertThat(r.json().get("error").get("field").asText()).as(r.body()).isEqualTo(field);
  }

  @Test
  void aSemicolonInAPathSegmentIsRefusedNotCut() {
    refused(http.post("/v1/namespaces/team;x", ""), "path");
    assertThat(http.get("/v1/namespaces/team").status()).isEqualTo(404);
    refused(http.put(CFG + "g/app;v2.txt", "x"), "path");
    assertThat(http.get(CFG + "g/app").status()).isEqualTo(404);
  }

  @Test
  void theConsolesVersionParametersAreRefusedByNameWhenMissingOrNotNumbers() {
    assertThat(http.put(CFG + "app/versions.txt", "a").status()).isIn(200, 201);
    String history = "/ui/configs/default/app/versions.txt/";
    refused(http.get(history + "diff?from=abc&to=1"), "from");
    refused(http.get(history + "diff?from=-1&to=1"), "from");
    refused(http.get(history + "diff?from=1"), "to");
    refused(http.post(history + "rollback?to=", ""), "to");
    assertThat(http.get(history + "diff?from=1&to=1").status()).isEqualTo(200);
  }

  @Test
  void waitIsCappedWhenHugeAndRefusedWhenNonsense() {
    http.post(SVC + "w/instances", "{\"host\":\"10.0.0.1\",\"port\":1}");
    // index 0 is behind the current revision: answered at once, whatever the wait
    Http.Response huge = http.get(SVC + "w/instances?index=0&wait=999999999999999999m");
    assertThat(huge.status()).as(huge.body()).isEqualTo(200);
    http.put(CFG + "w/a.txt", "one");
    Http.Response hugeCfg = http.get(CFG + "w/a.txt?index=0&wait=99999999999999999999999999s");
    assertThat(hugeCfg.status()).as(hugeCfg.body()).isEqualTo(200);
    refused(http.get(CFG + "w/a.txt?index=1&wait=1.5s"), "wait");
    refused(http.get(SVC + "w/instances?index=0&wait=soon"), "wait");
    refused(http.get(SVC + "w/instances?index=0&wait=-5s"), "wait");
    refused(http.get(SVC + "w/instances?index=0&wait=5h"), "wait");
    // without index the wait is not used, but nonsense is still refused, not ignored
    refused(http.get(SVC + "w/instances?wait=abc"), "wait");
    refused(http.get(CFG + "w/a.txt?wait=abc"), "wait");
    refused(http.get("/v1/namespaces?consistent=maybe"), "consistent");
    assertThat(http.get("/v1/namespaces?consistent=true").status()).isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(strings = {"::1", "fe80::1%eth0", "2001:db8::7", "[::1]", "::ffff:10.0.0.1"})
  void ipv6HostsAreAcceptedWithAValidDerivedId(String host) {
    Http.Response r = http.post(SVC + "v6/instances", "{\"host\":\"" + host + "\",\"port\":8080}");
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    String id = r.json().get("id").asText();
    assertThat(id).startsWith("ip6-").endsWith(":8080");
    assertThat(http.put(SVC + "v6/instances/" + id + "/heartbeat", "").status()).isEqualTo(200);
    assertThat(http.delete(SVC + "v6/instances/" + id).status()).isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(strings = {"%00", "a b", "::1::2", "fe80::1%", "1:2:3:4:5:6:7:8:9", "-bad-", "host%eth0", "[10.0.0.1]"})
  void malformedHostsAreRefused(String host) {
    refused(http.post(SVC + "badhost/instances", "{\"host\":\"" + host + "\",\"port\":8080}"), "host");
    assertThat(http.get(SVC + "badhost/instances").json().get("instances")).isEmpty();
  }

  @Test
  void aParameterGivenTwiceWithDifferentValuesIsRefusedNotGuessed() {
    assertThat(http.post(SVC + "twice/instances", "{\"host\":\"10.0.0.1\",\"port\":8080}").status()).isEqualTo(201);
    Http.Response r = http.get(SVC + "twice/instances?healthy=true&healthy=false");
    refused(r, "healthy");
    assertThat(r.json().get("error").get("message").asText()).contains("given more than once");
    refused(http.get("/v1/namespaces/default/configs?group=a&group=b"), "group");
    // the same value twice is harmless
    assertThat(http.get(SVC + "twice/instances?healthy=true&healthy=true").status()).isEqualTo(200);
  }

  @Test
  void aHugeHostIsRefusedWithoutBeingEchoed() {
    String host = "a".repeat(100_000);
    Http.Response r = http.post(SVC + "badhost/instances", "{\"host\":\"" + host + "\",\"port\":8080}");
    refused(r, "host");
    assertThat(r.json().get("error").get("message").asText()).isEqualTo("host is longer than 253 characters");
    assertThat(r.body().length()).isLessThan(1_000);
  }

  @Test
  void trailingGarbageAfterJsonIsRefused() {
    refused(http.post(SVC + "tg/instances", "{\"host\":\"10.0.0.1\",\"port\":1} {\"x\":1}"), "body");
    refused(http.post(SVC + "tg/instances", "{\"host\":\"10.0.0.1\",\"port\":1}garbage"), "body");
    refused(http.post("/v1/namespaces", "{\"name\":\"tg\"}]"), "body");
    assertThat(http.get(SVC + "tg/instances").json().get("instances")).isEmpty();
    assertThat(http.get("/v1/namespaces/tg").status()).isEqualTo(404);
  }

  static Http.Response sendBytes(String method, String path, byte[] body) {
    return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Content-Type", "application/json")
        .method(method, java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  static byte[] withBytes(String before, byte[] bad, String after) {
    byte[] a = before.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] c = after.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] out = new byte[a.length + bad.length + c.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(bad, 0, out, a.length, bad.length);
    System.arraycopy(c, 0, out, a.length + bad.length, c.length);
    return out;
  }

  @Test
  void aBodyThatIsNotUtf8IsRefusedNotStoredWithReplacementCharacters() {
    byte[] ff = {(byte) 0xff, (byte) 0xfe};
    byte[] cut = {(byte) 0xc3}; // the first byte of a two-byte sequence, alone
    refused(sendBytes("POST", "/v1/namespaces", withBytes("{\"name\":\"utf\",\"description\":\"a", ff, "b\"}")), "body");
    assertThat(http.get("/v1/namespaces/utf").status()).isEqualTo(404);
    refused(sendBytes("POST", SVC + "utf/instances", withBytes("{\"host\":\"10.0.0.1\",\"port\":1,\"metadata\":{\"k\":\"", cut,
        "\"}}")), "body");
    assertThat(http.get(SVC + "utf/instances").json().get("instances")).isEmpty();
    refused(sendBytes("PUT", SVC + "utf/rules/route", withBytes("{\"rules\":[{\"name\":\"", ff, "\"}]}")),
        "body");
    // valid UTF-8 beyond ASCII is stored as sent
    assertThat(sendBytes("POST", "/v1/namespaces", "{\"name\":\"utf2\",\"description\":\"上海 ü\"}"
        .getBytes(java.nio.charset.StandardCharsets.UTF_8)).status()).isEqualTo(201);
    assertThat(http.get("/v1/namespaces/utf2").json().get("description").asText()).isEqualTo("上海 ü");
  }

  @Test
  void limitsOfTheRequestItselfAnswerCodesTheDocsList() {
    Http.Response longUri = http.get(SVC + "x/instances?healthy=" + "t".repeat(100_000));
    assertThat(longUri.status()).isEqualTo(414);
    assertThat(longUri.json().get("error").get("code").asText()).isEqualTo("too_large"); // was "error"
    Http.Response method = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        "http://127.0.0.1:" + server.port() + "/v1/namespaces")).method("PATCH", java.net.http.HttpRequest.BodyPublishers.noBody()));
    assertThat(method.status()).isEqualTo(405);
    assertThat(method.json().get("error").get("code").asText()).isEqualTo("method_not_allowed");
  }

  @Test
  void anActionThatTakesNoBodyRefusesOneThatSaysMore() {
    // each ran as if the body were not there: {"x":1} rotated the secret key
    refused(http.post("/v1/secrets/rotate", "{\"keyFile\":\"/tmp/k\"}"), "keyFile");
    refused(http.post("/v1/cluster/snapshot", "garbage"), "body");
    http.put(CFG + "nb/a.txt", "one");
    refused(http.post(CFG + "nb/a.txt/gray/promote", "{\"version\":3}"), "version");
    // none, or an empty object as tools send, is fine
    assertThat(http.post("/v1/cluster/snapshot", "").status()).isEqualTo(200);
    assertThat(http.post("/v1/cluster/snapshot", "{}").status()).isEqualTo(200);
  }

  @Test
  void aKeyTwiceInAnObjectIsRefusedNotTheLastOneTaken() {
    refused(http.post(SVC + "dup/instances", "{\"id\":\"dup\",\"host\":\"10.0.0.1\",\"port\":1,\"id\":\"dup2\"}"), "body");
    refused(http.post(SVC + "dup/instances", "{\"host\":\"10.0.0.1\",\"port\":1,\"metadata\":{\"k\":\"a\",\"k\":\"b\"}}"),
        "body");
    refused(http.post("/v1/namespaces", "{\"name\":\"dup\",\"name\":\"dup2\"}"), "body");
    assertThat(http.get(SVC + "dup/instances").json().get("instances")).isEmpty();
    assertThat(http.get("/v1/namespaces/dup2").status()).isEqualTo(404);
  }

  @Test
  void unknownFieldsAreRefusedInTheNamespaceBodyAndInCheck() {
    refused(http.post("/v1/namespaces", "{\"name\":\"uf\",\"descripton\":\"typo\"}"), "descripton");
    refused(http.post("/v1/namespaces/uf2", "{\"owner\":\"me\"}"), "owner");
    assertThat(http.get("/v1/namespaces/uf").status()).isEqualTo(404);
    assertThat(http.get("/v1/namespaces/uf2").status()).isEqualTo(404);
    refused(http.post(SVC + "uf/instances", "{\"host\":\"10.0.0.1\",\"port\":1,\"ephemeral\":false,"
        + "\"check\":{\"type\":\"tcp\",\"intervalSecs\":5}}"), "check.intervalSecs");
  }

  @Test
  void aFractionalRollbackVersionIsRefused() {
    http.put(CFG + "rb/a.txt", "one");
    http.put(CFG + "rb/a.txt", "two");
    refused(http.post(CFG + "rb/a.txt/rollback", "{\"toVersion\":1.5}"), "toVersion");
    JsonNode latest = http.get(CFG + "rb/a.txt/history").json();
    assertThat(latest.toString()).doesNotContain("rollbackOf\":1");
  }

  @Test
  void aGrayReleaseToSomethingThatIsNotAnAddressIsRefused() {
    http.put(CFG + "gr/a.txt", "one");
    refused(http.put(CFG + "gr/a.txt/gray?addresses=not-an-ip", "two"), "gray.addresses");
    refused(http.put(CFG + "gr/a.txt/gray?addresses=10.0.0.1,10.0.0.300", "two"), "gray.addresses");
    assertThat(http.get(CFG + "gr/a.txt/gray").json().get("active").asBoolean()).isFalse();
    assertThat(http.put(CFG + "gr/a.txt/gray?addresses=10.0.0.1,::1", "two").status()).isEqualTo(200);
  }

  @Test
  void badQueryParametersNameTheParameter() {
    http.put(SVC + "qp", "");
    refused(http.get(SVC + "qp/rules/loadbalance?effective=maybe"), "effective");
    refused(http.put(SVC + "qp/rules/loadbalance?version=abc", "{\"policy\":\"round_robin\"}"), "version");
    refused(http.delete(SVC + "qp/rules/loadbalance?version=abc"), "version");
    refused(http.get(CFG + "qp/a.txt?version=abc"), "version");
    refused(http.get(SVC + "qp/instances?healthy=maybe"), "healthy");
    assertThat(http.get(SVC + "qp/rules/loadbalance").status()).isEqualTo(404);
  }
}
