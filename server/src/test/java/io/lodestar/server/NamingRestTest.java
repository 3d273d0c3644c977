package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NamingRestTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static final String BASE = "/v1/namespaces/default/services/";

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
  void aSingleNodeSaysHowToBackItUpAndItsSnapshotIsTheWay() throws Exception {
    Http.Response backup = http.post("/v1/cluster/backup", "{}");
    assertThat(backup.status()).isEqualTo(409);
    // it said "membership cannot change", which a backup is not about
    assertThat(backup.json().get("error").get("message").asText()).contains("/v1/cluster/snapshot")
        .doesNotContain("membership");
    assertThat(http.post("/v1/cluster/restore", "{\"name\":\"x.bin\"}").json().get("error").get("message").asText())
        .contains("data directory").doesNotContain("membership");
    assertThat(http.post("/v1/cluster/snapshot", "").status()).isEqualTo(200);
    try (var files = java.nio.file.Files.walk(dir)) {
      assertThat(files.map(f -> f.getFileName().toString())).anyMatch(n -> n.matches("snapshot-.*\\.bin"));
    }
  }

  @Test
  void writesWithoutAuthAreAuditedAsAnonymousFromTheCaller() {
    long before = System.currentTimeMillis() - 1;
    assertThat(http.post(BASE + "audited/instances", "{\"host\":\"10.1.9.1\",\"port\":80}").status())
        .isEqualTo(201);
    assertThat(http.put("/v1/namespaces/default/configs/app/audited.txt", "a").status()).isIn(200, 201);
    JsonNode entries = http.get("/v1/audit?ns=default&since=" + before).json().path("entries");
    // the audit stamp reads the request's context: a handler run off it would record nothing
    for (String action : new String[] {"register_instance", "publish_config"}) {
      assertThat(entries).as(action).anySatisfy(e -> {
        assertThat(e.path("action").asText()).isEqualTo(action);
        assertThat(e.path("actor").asText()).isEqualTo("anonymous");
        assertThat(e.path("source").asText()).isEqualTo("127.0.0.1");
      });
    }
  }

  @Test
  void registerListHeartbeatDeregister() {
    Http.Response r = http.post(BASE + "orders/instances",
        "{\"host\":\"10.1.0.1\",\"port\":8080,\"weight\":50,\"metadata\":{\"zone\":\"sh\",\"version\":\"2\"}}");
    assertThat(r.status()).isEqualTo(201);
    JsonNode inst = r.json();
    assertThat(inst.get("id").asText()).isEqualTo("10.1.0.1:8080");
    assertThat(inst.get("weight").asInt()).isEqualTo(50);
    assertThat(inst.get("ephemeral").asBoolean()).isTrue();
    assertThat(inst.get("health").asText()).isEqualTo("HEALTHY");
    assertThat(inst.get("metadata").get("zone").asText()).isEqualTo("sh");

    JsonNode list = http.get(BASE + "orders/instances").json();
    assertThat(list.get("instances")).hasSize(1);
    long rev = list.get("revision").asLong();
    assertThat(rev).isEqualTo(inst.get("revision").asLong());

    assertThat(http.put(BASE + "orders/instances/10.1.0.1:8080/heartbeat", "").status()).isEqualTo(200);
    assertThat(http.put(BASE + "orders/instances/nope/heartbeat", "").status()).isEqualTo(404);

    JsonNode services = http.get("/v1/namespaces/default/services").json().get("services");
    assertThat(services.findValuesAsText("name")).contains("orders");

    assertThat(http.delete(BASE + "orders/instances/10.1.0.1:8080").status()).isEqualTo(200);
    JsonNode after = http.get(BASE + "orders/instances").json();
    assertThat(after.get("instances")).isEmpty();
    assertThat(after.get("revision").asLong()).isGreaterThan(rev);
    assertThat(http.delete(BASE + "orders/instances/10.1.0.1:8080").status()).isEqualTo(404);
  }

  @Test
  void clientGivenIdAndReRegistrationReplaces() {
    http.post(BASE + "pay/instances", "{\"id\":\"pay-1\",\"host\":\"h1\",\"port\":1}");
    http.post(BASE + "pay/instances", "{\"id\":\"pay-1\",\"host\":\"h1\",\"port\":1,\"weight\":7}");
    JsonNode list = http.get(BASE + "pay/instances").json().get("instances");
    assertThat(list).hasSize(1);
    assertThat(list.get(0).get("weight").asInt()).isEqualTo(7);
  }

  @Test
  void isolateRestoreAndWeightEditKeepTheInstanceRegistered() {
    http.post(BASE + "iso/instances", "{\"id\":\"a\",\"host\":\"h1\",\"port\":1}");
    http.post(BASE + "iso/instances", "{\"id\":\"b\",\"host\":\"h2\",\"port\":1}");
    Http.Response r = http.patch(BASE + "iso/instances/a", "{\"isolated\":true,\"weight\":30}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("isolated").asBoolean()).isTrue();
    assertThat(r.json().get("weight").asInt()).isEqualTo(30);
    // out of discovery, still registered and listed, marked
    assertThat(http.get(BASE + "iso/instances?healthy=true").json().get("instances").findValuesAsText("id"))
        .containsExactly("b");
    JsonNode all = http.get(BASE + "iso/instances").json().get("instances");
    assertThat(all.findValuesAsText("id")).containsExactly("a", "b");
    // a re-registration (an SDK reconnecting) does not undo the operator's isolation
    http.post(BASE + "iso/instances", "{\"id\":\"a\",\"host\":\"h1\",\"port\":1}");
    assertThat(http.get(BASE + "iso/instances?healthy=true").json().get("instances").findValuesAsText("id"))
        .containsExactly("b");
    assertThat(http.patch(BASE + "iso/instances/a", "{\"isolated\":false}").status()).isEqualTo(200);
    assertThat(http.get(BASE + "iso/instances?healthy=true").json().get("instances").findValuesAsText("id"))
        .containsExactly("a", "b");
  }

  /** A drain by weight 0 holds when the instance registers again, until the operator restores it. */
  @Test
  void anOperatorsWeightHoldsOverReRegistrationUntilRestored() {
    http.post(BASE + "drain/instances", "{\"id\":\"a\",\"host\":\"h1\",\"port\":1,\"weight\":7}");
    Http.Response r = http.patch(BASE + "drain/instances/a", "{\"weight\":0}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("weight").asInt()).isZero();
    assertThat(r.json().get("registeredWeight").asInt()).isEqualTo(7);
    // the app restarts with another weight: the operator's stays in force, its own is recorded
    http.post(BASE + "drain/instances", "{\"id\":\"a\",\"host\":\"h1\",\"port\":1,\"weight\":8}");
    JsonNode a = http.get(BASE + "drain/instances").json().get("instances").get(0);
    assertThat(a.get("weight").asInt()).isZero();
    assertThat(a.get("registeredWeight").asInt()).isEqualTo(8);
    r = http.patch(BASE + "drain/instances/a", "{\"restoreWeight\":true}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("weight").asInt()).isEqualTo(8);
    assertThat(r.json().has("registeredWeight")).isFalse();
    assertThat(http.get(BASE + "drain/instances").json().get("instances").get(0).has("registeredWeight")).isFalse();
  }

  @Test
  void badInstanceUpdatesNameTheField() {
    http.post(BASE + "iso2/instances", "{\"id\":\"a\",\"host\":\"h1\",\"port\":1}");
    Http.Response r = http.patch(BASE + "iso2/instances/a", "{\"weight\":20000}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().at("/error/field").asText()).isEqualTo("weight");
    r = http.patch(BASE + "iso2/instances/a", "{\"isolated\":\"yes\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().at("/error/field").asText()).isEqualTo("isolated");
    for (String body : new String[] {"{\"restoreWeight\":true,\"weight\":3}", "{\"restoreWeight\":\"yes\"}",
        "{\"restoreWeight\":null}"}) {
      r = http.patch(BASE + "iso2/instances/a", body);
      assertThat(r.status()).as(body).isEqualTo(400);
      assertThat(r.json().at("/error/field").asText()).as(body).isEqualTo("restoreWeight");
    }
    assertThat(http.get(BASE + "iso2/instances").json().get("instances").get(0).get("weight").asInt()).isEqualTo(100);
    r = http.patch(BASE + "iso2/instances/a", "{\"colour\":1}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().at("/error/field").asText()).isEqualTo("colour");
    assertThat(http.patch(BASE + "iso2/instances/nope", "{\"isolated\":true}").status()).isEqualTo(404);
  }

  @Test
  void namespacesLifecycle() {
    assertThat(http.post("/v1/namespaces", "{\"name\":\"prod\",\"description\":\"production\"}").status())
        .isEqualTo(201);
    assertThat(http.post("/v1/namespaces", "{\"name\":\"prod\"}").status()).isEqualTo(409);
    assertThat(http.post("/v1/namespaces/staging", "").status()).isEqualTo(201);
    assertThat(http.get("/v1/namespaces").json().get("namespaces").findValuesAsText("name"))
        .contains("default", "prod", "staging");
    assertThat(http.get("/v1/namespaces/prod").json().get("description").asText()).isEqualTo("production");

    http.post("/v1/namespaces/prod/services/api/instances", "{\"host\":\"h\",\"port\":9}");
    Http.Response refused = http.delete("/v1/namespaces/prod");
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.json().get("error").get("message").asText()).contains("not empty");
    http.delete("/v1/namespaces/prod/services/api/instances/h:9");
    assertThat(http.delete("/v1/namespaces/prod").status()).isEqualTo(200);
    assertThat(http.get("/v1/namespaces/prod").status()).isEqualTo(404);
    assertThat(http.delete("/v1/namespaces/default").status()).isEqualTo(409);
    assertThat(http.post("/v1/namespaces/nope/services/x/instances", "{\"host\":\"h\",\"port\":1}").status())
        .isEqualTo(404);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      malformed JSON          | {"host":                                 | body
      not an object           | [1,2]                                    | body
      missing host            | {"port":80}                              | host
      missing port            | {"host":"h"}                             | port
      port zero               | {"host":"h","port":0}                    | port
      port too large          | {"host":"h","port":65536}                | port
      port not a number       | {"host":"h","port":"80"}                 | port
      weight too large        | {"host":"h","port":80,"weight":10001}    | weight
      negative weight         | {"host":"h","port":80,"weight":-1}       | weight
      bad id                  | {"host":"h","port":80,"id":"a b"}        | id
      unknown field           | {"host":"h","port":80,"colour":"red"}    | colour
      bad metadata            | {"host":"h","port":80,"metadata":[1]}    | metadata
      bad ttl                 | {"host":"h","port":80,"ttlSeconds":0}    | ttlSeconds
      check on ephemeral      | {"host":"h","port":80,"check":{"type":"tcp"}} | check
      bad check type          | {"host":"h","port":80,"ephemeral":false,"check":{"type":"udp"}} | check.type
      """)
  void badRegistrationsAreRefusedNamingTheFieldAndStoreNothing(String name, String body, String field) {
    long before = server.stateMachine().registry().revision();
    Http.Response r = http.post(BASE + "bad/instances", body);
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    JsonNode err = r.json().get("error");
    assertThat(err.get("code").asText()).isEqualTo("invalid_argument");
    assertThat(err.get("field").asText()).isEqualTo(field);
    assertThat(err.get("message").asText()).isNotBlank().doesNotContain("Exception");
    assertThat(server.stateMachine().registry().revision()).isEqualTo(before);
    assertThat(server.stateMachine().registry().view("default", "bad")).isNull();
  }

  @Test
  void badNamesInThePathAreRefused() {
    Http.Response illegal = http.post("/v1/namespaces/default/services/bad%20name/instances", "{\"host\":\"h\",\"port\":1}");
    assertThat(illegal.status()).isEqualTo(400);
    assertThat(illegal.json().get("error").get("field").asText()).isEqualTo("service");
    Http.Response tooLong = http.post("/v1/namespaces/default/services/" + "s".repeat(129) + "/instances",
        "{\"host\":\"h\",\"port\":1}");
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.json().get("error").get("message").asText()).contains("128");
    assertThat(http.post("/v1/namespaces", "{\"name\":\"has/slash\"}").status()).isEqualTo(400);
  }

  @Test
  void oversizedBodiesGet413AndStoreNothing() {
    long before = server.stateMachine().registry().revision();
    String big = "{\"host\":\"h\",\"port\":1,\"metadata\":{\"k\":\"" + "x".repeat(1 << 20) + "\"}}";
    Http.Response r = http.post(BASE + "big/instances", big);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.json().get("error").get("code").asText()).isEqualTo("too_large");
    assertThat(server.stateMachine().registry().revision()).isEqualTo(before);
  }

  @Test
  void unknownPathsAnswerJson() {
    Http.Response r = http.get("/v1/nothing-here");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().get("error").get("code").asText()).isEqualTo("not_found");
  }

  @Test
  void longPollWakesOnChangeAndReturnsAtTheEndOfTheWait() throws Exception {
    http.post(BASE + "poll/instances", "{\"host\":\"h\",\"port\":1}");
    long rev = http.get(BASE + "poll/instances").json().get("revision").asLong();

    // nothing changes: the poll ends at its wait with the same revision
    Http.Response idle = http.get(BASE + "poll/instances?index=" + rev + "&wait=200ms");
    assertThat(idle.status()).isEqualTo(200);
    assertThat(idle.json().get("revision").asLong()).isEqualTo(rev);
    assertThat(idle.headers().firstValue("X-Lodestar-Index")).contains(Long.toString(rev));

    CompletableFuture<Http.Response> poll = CompletableFuture.supplyAsync(
        () -> http.get(BASE + "poll/instances?index=" + rev + "&wait=60s"));
    // the poll is parked until a change; make one
    org.awaitility.Awaitility.await().until(() -> {
      http.post(BASE + "poll/instances", "{\"host\":\"h\",\"port\":" + (2 + (int) (Math.random() * 1000)) + "}");
      return poll.isDone();
    });
    JsonNode woke = poll.get().json();
    assertThat(woke.get("revision").asLong()).isGreaterThan(rev);
    assertThat(woke.get("instances").size()).isGreaterThan(1);

    // an old index answers at once
    assertThat(http.get(BASE + "poll/instances?index=0&wait=60s").json().get("revision").asLong())
        .isGreaterThan(rev);
    assertThat(http.get(BASE + "poll/instances?index=x").status()).isEqualTo(400);
    assertThat(http.get(BASE + "poll/instances?index=1&wait=forever").status()).isEqualTo(400);
  }

  @Test
  void serviceSettingsAndHealthEndpoints() {
    assertThat(http.put(BASE + "settings", "{\"metadata\":{\"owner\":\"team-a\"},\"protectThreshold\":0.8}")
        .status()).isEqualTo(200);
    JsonNode svc = http.get(BASE + "settings").json();
    assertThat(svc.get("protectThreshold").asDouble()).isEqualTo(0.8);
    assertThat(svc.get("metadata").get("owner").asText()).isEqualTo("team-a");
    assertThat(http.put(BASE + "settings", "{\"protectThreshold\":2}").json().get("error").get("field").asText())
        .isEqualTo("protectThreshold");
    // 0 would be stored as "unset" and read back as 0.5 (and is Nacos's "off"): refused, nothing written
    JsonNode zero = http.put(BASE + "settings", "{\"protectThreshold\":0}").json();
    assertThat(zero.get("error").get("field").asText()).isEqualTo("protectThreshold");
    assertThat(zero.get("error").get("message").asText()).contains("1 turns protection off");
    assertThat(http.get(BASE + "settings").json().get("protectThreshold").asDouble()).isEqualTo(0.8);
    assertThat(http.get("/health").status()).isEqualTo(200);
    String metrics = http.get("/metrics").body();
    assertThat(metrics).contains("lodestar_instances", "lodestar_registrations_total", "lodestar_clients_connected",
        "jvm_memory_used_bytes", "lodestar_http_requests_total", "lodestar_push_updates_total");
    // every route's label is a name a person can read, never a lambda's class
    assertThat(metrics).contains("service=\"health\"").doesNotContain("$$Lambda").doesNotContain("Lambda$");
  }
}
