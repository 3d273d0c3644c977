package io.lodestar.server.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.Http;
import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Consul API over plain HTTP, for what real clients depend on but do not show directly:
 * X-Consul-Index semantics, blocking that ignores unrelated writes, the query-parameter and token
 * forms clients send, health checks, errors, namespaces and the Consul-only port. Leases and
 * probes run on a manual clock that a test moves ({@link #advance}), instead of waiting out TTLs.
 */
class ConsulApiTest {
  @TempDir static Path dir;
  static final java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
  static LodestarServer server;
  static Http http;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).consulPort(0).dataDir(dir).nanoClock(clock::get).build().start();
    http = new Http(server.port());
  }

  /** Moves the health clock on and runs one scan; its transitions are applied when this returns. */
  static void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    server.scanHealth();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static long index(Http.Response r) {
    return Long.parseLong(r.headers().firstValue("X-Consul-Index").orElseThrow());
  }

  static Http.Response register(String body) {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/agent/service/register"))
        .header("Content-Type", "text/plain; charset=UTF-8")  // as ecwid sends JSON
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  static CompletableFuture<Http.Response> async(String path) {
    return CompletableFuture.supplyAsync(() -> http.get(path));
  }

  @Test
  void everyReadCarriesAnIndexOfAtLeastOneEvenA404() {
    Http.Response missing = http.get("/v1/kv/does/not/exist");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(index(missing)).isGreaterThanOrEqualTo(1);
    Http.Response none = http.get("/v1/health/service/nobody");
    assertThat(none.status()).isEqualTo(200);
    assertThat(none.json()).isEmpty();
    assertThat(index(none)).isGreaterThanOrEqualTo(1);
    assertThat(index(http.get("/v1/catalog/services"))).isGreaterThanOrEqualTo(1);
    assertThat(index(http.get("/v1/agent/services"))).isGreaterThanOrEqualTo(1);
  }

  @Test
  void catalogIndexMovesOnNamesAndTagsOnlyAndItsBlockingQueryIgnoresTheRest() {
    assertThat(register("{\"Name\":\"cat\",\"ID\":\"cat-1\",\"Port\":7001,\"Tags\":[\"a\"],"
        + "\"Check\":{\"TTL\":\"30s\"}}").status()).isEqualTo(200);
    Http.Response before = http.get("/v1/catalog/services");
    assertThat(before.json().get("cat")).extracting(JsonNode::asText).containsExactly("a");
    long index = index(before);
    CompletableFuture<Http.Response> blocked = async("/v1/catalog/services?index=" + index + "&wait=30s");
    // a health change and a KV write are not the catalog's business
    assertThat(http.put("/v1/agent/check/pass/service:cat-1", "").status()).isEqualTo(200);
    assertThat(http.put("/v1/kv/elsewhere", "x").body()).isEqualTo("true");
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> !blocked.isDone());
    assertThat(index(http.get("/v1/catalog/services"))).isEqualTo(index);

    assertThat(register("{\"Name\":\"cat\",\"ID\":\"cat-2\",\"Port\":7002,\"Tags\":[\"b\"]}").status()).isEqualTo(200);
    Http.Response woke = blocked.join();
    assertThat(index(woke)).isGreaterThan(index);
    assertThat(woke.json().get("cat")).extracting(JsonNode::asText).containsExactly("a", "b");
  }

  @Test
  void aServiceWhoseInstancesHadNoTagsShowsTheFirstTagAndItsIndexMoves() {
    // untagged writes to an untagged service skip the walk over its instances; a tagged one must not
    assertThat(register("{\"Name\":\"plain\",\"ID\":\"plain-1\",\"Port\":7101}").status()).isEqualTo(200);
    assertThat(register("{\"Name\":\"plain\",\"ID\":\"plain-2\",\"Port\":7102}").status()).isEqualTo(200);
    Http.Response before = http.get("/v1/catalog/services");
    assertThat(before.json().get("plain")).isEmpty();
    long index = index(before);
    assertThat(register("{\"Name\":\"plain\",\"ID\":\"plain-1\",\"Port\":7101,\"Tags\":[\"now\"]}").status())
        .isEqualTo(200);
    Http.Response after = http.get("/v1/catalog/services");
    assertThat(after.json().get("plain")).extracting(JsonNode::asText).containsExactly("now");
    assertThat(index(after)).isGreaterThan(index);
  }

  @Test
  void aBlockingKeyReadIgnoresOtherKeysAndWakesOnItsOwn() {
    http.put("/v1/kv/watch/me", "1");
    long index = index(http.get("/v1/kv/watch/me"));
    CompletableFuture<Http.Response> blocked = async("/v1/kv/watch/me?index=" + index + "&wait=120000ms");
    CompletableFuture<Http.Response> prefix = async("/v1/kv/watch/?recurse&index=" + index + "&wait=30s");
    http.put("/v1/kv/watch-not/me", "x");
    http.put("/v1/kv/other", "x");
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
        .until(() -> !blocked.isDone() && !prefix.isDone());
    http.put("/v1/kv/watch/me", "2");
    Http.Response woke = blocked.join();
    assertThat(index(woke)).isGreaterThan(index);
    assertThat(woke.json().get(0).get("Value").asText()).isEqualTo("Mg==");  // base64 of "2"
    assertThat(index(prefix.join())).isEqualTo(index(woke));
    // a blocking read of a missing key wakes when it is created
    long missing = index(http.get("/v1/kv/later"));
    CompletableFuture<Http.Response> later = async("/v1/kv/later?index=" + missing + "&wait=30s");
    http.put("/v1/kv/later", "now");
    assertThat(later.join().status()).isEqualTo(200);
    // a wait that runs out answers the same index
    Http.Response timedOut = http.get("/v1/kv/watch/me?index=" + index(woke) + "&wait=1s");
    assertThat(index(timedOut)).isEqualTo(index(woke));
  }

  @Test
  void keysSeparatorRawAndFlags() {
    http.put("/v1/kv/tree/a/1", "x");
    http.put("/v1/kv/tree/a/2", "y");
    http.put("/v1/kv/tree/b?flags=7", "z");
    assertThat(http.get("/v1/kv/tree/?keys&separator=/").json()).extracting(JsonNode::asText)
        .containsExactly("tree/a/", "tree/b");
    assertThat(http.get("/v1/kv/tree/?keys").json()).hasSize(3);
    assertThat(http.get("/v1/kv/tree/b?raw").body()).isEqualTo("z");
    assertThat(http.get("/v1/kv/tree/b").json().get(0).get("Flags").asLong()).isEqualTo(7);
    // keys decode as Consul decodes them: %2F is a '/', a ';' is part of the key
    http.put("/v1/kv/tree/enc%2Fslash", "s");
    assertThat(http.get("/v1/kv/tree/enc/slash?raw").body()).isEqualTo("s"); // was stored as "enc%2Fslash"
    Http consul = new Http(server.consulPort()); // the main port refuses a ';' in any path (PathGuard)
    Http.Response semi = consul.put("/v1/kv/tree/semi;x=1", "c");
    assertThat(semi.status()).as(semi.body()).isEqualTo(200);
    assertThat(http.get("/v1/kv/tree/semi%3Bx=1?raw").body()).isEqualTo("c"); // was stored as "semi"
    assertThat(http.get("/v1/kv/tree/semi").status()).isEqualTo(404);
    assertThat(http.put("/v1/kv/tree/bad%C3%28", "x").status()).isEqualTo(400); // not UTF-8: was U+FFFD
    http.delete("/v1/kv/tree/enc/slash");
    http.delete("/v1/kv/tree/semi%3Bx=1");
    http.put("/v1/kv/tree/max?flags=18446744073709551615", "m"); // uint64: read back as sent, not -1
    assertThat(http.get("/v1/kv/tree/max").body()).contains("\"Flags\":18446744073709551615");
    // Lodestar's extension: a key's kept earlier values, newest first, also after a delete
    http.put("/v1/kv/tree/b", "z2");
    assertThat(http.get("/v1/kv/tree/b?history").json()).extracting(e -> e.get("Value").asText())
        .containsExactly("ejI=", "eg==");  // base64 of z2, z
    assertThat(http.delete("/v1/kv/tree?recurse").body()).isEqualTo("true");
    assertThat(http.get("/v1/kv/tree/b?history").json()).extracting(e -> e.get("Value").asText())
        .containsExactly("ejI=", "eg==");
    assertThat(http.get("/v1/kv/tree/?recurse").status()).isEqualTo(404);
  }

  @Test
  void queryParameterAndTokenFormsClientsSend() {
    register("{\"Name\":\"forms\",\"ID\":\"forms-1\",\"Port\":7101,\"Meta\":{\"version\":\"1\"},"
        + "\"Check\":{\"TTL\":\"30s\"}}");
    register("{\"Name\":\"forms\",\"ID\":\"forms-2\",\"Port\":7102,\"Meta\":{\"version\":\"2\"},"
        + "\"Check\":{\"TTL\":\"30s\"}}");
    http.put("/v1/agent/check/pass/service:forms-2?token=", "");
    assertThat(http.get("/v1/health/service/forms?passing").json()).hasSize(1);
    assertThat(http.get("/v1/health/service/forms?passing=true&stale=&token=").json()).hasSize(1);
    assertThat(http.get("/v1/health/service/forms?passing=false").json()).hasSize(2);
    assertThat(http.get("/v1/health/service/forms?filter=" + enc("Service.Meta.version == \"1\"")).json())
        .extracting(e -> e.get("Service").get("ID").asText()).containsExactly("forms-1");
    assertThat(http.get("/v1/health/service/forms?filter=" + enc("Checks.Status == passing and Service.Port != 7101"))
        .json()).extracting(e -> e.get("Service").get("ID").asText()).containsExactly("forms-2");
    Http.Response prom = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/v1/health/service/forms?stale")).header("Authorization", "Basic Og==").header("X-Consul-Token", ""));
    assertThat(prom.status()).isEqualTo(200);
    assertThat(http.get("/v1/agent/self").json().get("Config").get("Datacenter").asText()).isEqualTo("dc1");
  }

  @Test
  void ttlChecksLapseAndDeregisterCriticalServiceAfterRemoves() {
    register("{\"Name\":\"lapse\",\"ID\":\"lapse-1\",\"Port\":7201,"
        + "\"Check\":{\"CheckID\":\"my-check\",\"TTL\":\"1s\",\"DeregisterCriticalServiceAfter\":\"1s\"}}");
    assertThat(http.put("/v1/agent/check/pass/service:lapse-1", "").status()).isEqualTo(404);  // it has its own id
    assertThat(http.put("/v1/agent/check/pass/my-check", "").status()).isEqualTo(200);
    assertThat(statusOf("lapse")).isEqualTo("passing");
    assertThat(http.get("/v1/agent/checks").json().get("my-check").get("Type").asText()).isEqualTo("ttl");
    assertThat(http.put("/v1/agent/check/update/my-check", "{\"Status\":\"critical\",\"Output\":\"down\"}").status())
        .isEqualTo(200);
    assertThat(statusOf("lapse")).isEqualTo("critical");
    // no more passes: after the TTL plus DeregisterCriticalServiceAfter it is gone
    advance(Duration.ofMillis(1500));
    advance(Duration.ofMillis(1500));
    await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/v1/health/service/lapse").json().isEmpty());
  }

  @Test
  void httpAndTcpChecksAreTheServersProbes() {
    String health = "http://127.0.0.1:" + server.port() + "/health";
    register("{\"Name\":\"probed\",\"ID\":\"probed-http\",\"Port\":7301,\"Check\":{\"HTTP\":\"" + health
        + "\",\"Interval\":\"1s\",\"Timeout\":\"1s\"}}");
    register("{\"Name\":\"probed\",\"ID\":\"probed-tcp\",\"Port\":7302,\"Check\":{\"TCP\":\"127.0.0.1:1\","
        + "\"Interval\":\"1s\"}}");
    // each poll moves the clock a probe interval on, so that the probes come due
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
      advance(Duration.ofSeconds(1));
      return http.get("/v1/health/service/probed?passing").json().size() == 1;
    });
    assertThat(http.get("/v1/health/service/probed?passing").json().get(0).get("Service").get("ID").asText())
        .isEqualTo("probed-http");
    assertThat(http.put("/v1/agent/check/pass/service:probed-http", "").status()).isEqualTo(400);
  }

  @Test
  void servicesAreVisibleBothWays() {
    // registered through Lodestar's REST API, seen through Consul's
    assertThat(http.post("/v1/namespaces/default/services/both/instances",
        "{\"id\":\"both-1\",\"host\":\"10.0.0.1\",\"port\":8080,\"metadata\":{\"zone\":\"sh\"}}").status()).isEqualTo(201);
    JsonNode e = http.get("/v1/health/service/both").json().get(0);
    assertThat(e.get("Service").get("Address").asText()).isEqualTo("10.0.0.1");
    assertThat(e.get("Service").get("Meta").get("zone").asText()).isEqualTo("sh");
    assertThat(e.get("Checks").get(0).get("Status").asText()).isEqualTo("passing");
    // and the reverse
    register("{\"Name\":\"both\",\"ID\":\"both-2\",\"Address\":\"10.0.0.2\",\"Port\":8080,\"Tags\":[\"t\"]}");
    JsonNode list = http.get("/v1/namespaces/default/services/both/instances").json().get("instances");
    assertThat(list).extracting(i -> i.get("id").asText()).containsExactly("both-1", "both-2");
    assertThat(list.get(1).get("tags")).extracting(JsonNode::asText).containsExactly("t");
    // catalog/service applies filter too (it was read and ignored): both instances share the port
    assertThat(http.get("/v1/catalog/service/both?filter=" + enc("ServiceID == \"both-2\"")).json())
        .extracting(x -> x.get("ServiceID").asText()).containsExactly("both-2");
    assertThat(http.get("/v1/catalog/service/both?filter=" + enc("ServiceMeta.zone == sh")).json())
        .extracting(x -> x.get("ServiceID").asText()).containsExactly("both-1");
    assertThat(http.get("/v1/catalog/service/both?filter=" + enc("(")).status()).isEqualTo(400);
    // a selector Consul does not have is refused, as Consul does, instead of selecting nothing
    for (String path : List.of("/v1/health/service/both", "/v1/catalog/service/both", "/v1/agent/services",
        "/v1/agent/checks")) {
      Http.Response typo = http.get(path + "?filter=" + enc("Serivce.Tags contains t"));
      assertThat(typo.status()).as(path).isEqualTo(400);
      assertThat(typo.body()).as(path).contains("Selector \"Serivce.Tags\" is not valid");
    }
    assertThat(http.get("/v1/catalog/service/both?filter=" + enc("\"t\" in ServiceTag")).status()).isEqualTo(400);
    assertThat(http.get("/v1/health/service/both?filter=" + enc("Service.Kind != \"connect-proxy\"")).json())
        .hasSize(2); // a Consul field Lodestar does not render selects as empty, not refused
    // every field each endpoint renders can be selected (agent results are objects keyed by id)
    register("{\"Name\":\"both\",\"ID\":\"both-3\",\"Port\":8081,\"Check\":{\"TTL\":\"30s\"}}");
    assertSelectable(http.get("/v1/health/service/both").json(), ConsulFilter.HEALTH_FIELDS);
    assertSelectable(http.get("/v1/catalog/service/both").json(), ConsulFilter.CATALOG_FIELDS);
    assertSelectable(http.get("/v1/agent/services").json(), ConsulFilter.AGENT_SERVICE_FIELDS);
    assertSelectable(http.get("/v1/agent/checks").json(), ConsulFilter.AGENT_CHECK_FIELDS);
    assertThat(http.put("/v1/agent/service/deregister/both-3", "").status()).isEqualTo(200);
    // an instance an operator isolates is in maintenance for Consul: critical, left out of passing
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/v1/namespaces/default/services/both/instances/both-1")).method("PATCH",
            HttpRequest.BodyPublishers.ofString("{\"isolated\":true}"))).status()).isEqualTo(200);
    assertThat(http.get("/v1/health/service/both?passing").json()).extracting(h -> h.get("Service").get("ID").asText())
        .containsExactly("both-2");
  }

  @Test
  void namespacesComeFromNs() {
    assertThat(http.post("/v1/namespaces", "{\"name\":\"prod\"}").status()).isEqualTo(201);
    register("{\"Name\":\"nsd\",\"ID\":\"nsd-1\",\"Port\":7401}");
    assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/v1/agent/service/register?ns=prod")).PUT(HttpRequest.BodyPublishers.ofString(
            "{\"Name\":\"nsd\",\"ID\":\"nsd-prod\",\"Port\":7402}"))).status()).isEqualTo(200);
    assertThat(http.get("/v1/catalog/service/nsd?ns=prod").json()).extracting(s -> s.get("ServiceID").asText())
        .containsExactly("nsd-prod");
    assertThat(http.get("/v1/catalog/service/nsd").json()).extracting(s -> s.get("ServiceID").asText())
        .containsExactly("nsd-1");
    assertThat(http.put("/v1/kv/k?ns=prod", "p").body()).isEqualTo("true");
    assertThat(http.get("/v1/kv/k").status()).isEqualTo(404);
    assertThat(http.get("/v1/kv/k?ns=nowhere").status()).isEqualTo(404);
  }

  @Test
  void anIdAnotherServiceAlsoHeldStaysAddressableWhenThatOneGoes() {
    assertThat(register("{\"Name\":\"svca\",\"ID\":\"dupid\",\"Port\":80,\"Check\":{\"TTL\":\"300s\"}}").status())
        .isEqualTo(200);
    assertThat(http.put("/v1/agent/check/pass/service:dupid", "").status()).isEqualTo(200);
    // Lodestar's ids are per service: another service's instance may take the same one
    assertThat(http.post("/v1/namespaces/default/services/svcb/instances",
        "{\"id\":\"dupid\",\"host\":\"10.0.0.9\",\"port\":90,\"ephemeral\":false}").status()).isEqualTo(201);
    assertThat(http.delete("/v1/namespaces/default/services/svcb/instances/dupid").status()).isEqualTo(200);
    // svca's instance was lost to the Consul API: no heartbeat, no deregistration, left to expire
    assertThat(http.get("/v1/agent/service/dupid").json().get("Service").asText()).isEqualTo("svca");
    assertThat(http.put("/v1/agent/check/pass/service:dupid", "").status()).isEqualTo(200);
    assertThat(http.put("/v1/agent/service/deregister/dupid", "").status()).isEqualTo(200);
    assertThat(http.get("/v1/agent/service/dupid").status()).isEqualTo(404);
  }

  @Test
  void badInputGetsAPlainTextReasonAndStoresNothing() {
    long revision = server.stateMachine().registry().revision();
    long kvIndex = server.stateMachine().kv().index();
    List<Http.Response> bad = new ArrayList<>();
    bad.add(register("{\"ID\":\"x\",\"Port\":1}"));                                   // no Name
    bad.add(register("{\"Name\":\"x\",\"Port\":0}"));                                  // no port
    bad.add(register("{\"Name\":\"x\",\"Port\":1.5}"));                                // not a port: was stored as 1
    bad.add(register("{\"Name\":\"x\",\"Port\":\"80\"}"));                              // a string, as Consul refuses
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"TTL\":\"soon\"}}"));      // bad duration
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"Script\":\"/bin/true\"}}"));
    // a URL the prober cannot parse would never be probed healthy (refused as it is logged, on every surface)
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"HTTP\":\"http://127.0.0.1:1/a b\",\"Interval\":\"10s\"}}"));
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Tags\":\"notalist\"}"));
    // what Consul's decoder or agent refuses is refused, not stored as something else
    bad.add(register("{\"Name\":123,\"Port\":1}"));                                   // was service "123"
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Meta\":{\"k\":1}}"));
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"TTL\":10}}"));             // numeric: docs/consul.md
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"TTL\":\"10\"}}"));           // no unit
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"TTL\":\"10s\",\"Status\":\"bogus\"}}"));
    bad.add(register("{\"Name\":\"x\",\"Port\":1,\"Check\":{\"TCP\":\"127.0.0.1:99999\",\"Interval\":\"10s\"}}"));
    bad.add(register("{not json"));
    bad.add(register("{\"Name\":\"bad name!\",\"Port\":1}"));
    bad.add(http.get("/v1/health/service/x?filter=" + enc("Service.ID ==")));
    bad.add(http.get("/v1/health/service/x?index=abc"));
    bad.add(http.get("/v1/health/service/x?passing=maybe"));                           // was read as true
    bad.add(http.get("/v1/health/service/x?wait=10x"));                                // was ignored without index
    bad.add(http.get("/v1/kv/x?index=1&wait=forever"));
    bad.add(http.put("/v1/kv/x?cas=minus", "v"));
    bad.add(http.put("/v1/kv/x?acquire=session", "v"));
    bad.add(http.put("/v1/kv/" + "k".repeat(513), "v"));
    for (Http.Response r : bad) {
      assertThat(r.status()).as(r.body()).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
      assertThat(r.body()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
    }
    Http.Response big = http.put("/v1/kv/big", "x".repeat(512 * 1024 + 1));
    assertThat(big.status()).isEqualTo(413);
    // past the server's own body limit Armeria refuses before the handler reads: 413 still, not 500
    Http.Response huge = http.put("/v1/kv/huge", "x".repeat(4 * 1024 * 1024));
    assertThat(huge.status()).as(huge.body()).isEqualTo(413);
    assertThat(huge.body()).doesNotContain("internal");
    Http.Response hugeRegister = register("{\"Name\":\"x\",\"Port\":1,\"Meta\":{\"k\":\"" + "x".repeat(4 * 1024 * 1024) + "\"}}");
    assertThat(hugeRegister.status()).as(hugeRegister.body()).isEqualTo(413);
    assertThat(http.put("/v1/agent/check/pass/nope", "").status()).isEqualTo(404);
    assertThat(http.put("/v1/agent/service/deregister/nope", "").status()).isEqualTo(404);
    assertThat(server.stateMachine().registry().revision()).isEqualTo(revision);
    assertThat(server.stateMachine().kv().index()).isEqualTo(kvIndex);
  }

  @Test
  void theConsulPortServesTheConsulApiOnly() {
    Http consulOnly = new Http(server.consulPort());
    assertThat(server.consulPort()).isPositive().isNotEqualTo(server.port());
    assertThat(consulOnly.get("/v1/catalog/datacenters").json()).extracting(JsonNode::asText).containsExactly("dc1");
    assertThat(consulOnly.get("/v1/status/leader").json().asText()).isEqualTo("127.0.0.1:" + server.port());
    assertThat(consulOnly.get("/v1/namespaces").status()).isEqualTo(404);
  }

  static String statusOf(String service) {
    return http.get("/v1/health/service/" + service).json().get(0).get("Checks").get(0).get("Status").asText();
  }

  static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void assertSelectable(JsonNode results, java.util.Set<String> fields) {
    assertThat(results).isNotEmpty();
    for (JsonNode r : results) { // an array's elements, or an object's values
      r.fieldNames().forEachRemaining(f -> assertThat(fields).as("a field the endpoint renders").contains(f));
    }
  }
}
