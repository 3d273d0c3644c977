package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GovernanceRestTest {
  // One server for the class (starting one costs seconds on a shared machine); tests use distinct
  // services. The restart test runs its own.
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static final String SVC = "/v1/namespaces/default/services/orders";

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static final String CANARY = """
      {"rules":[{"name":"canary","match":{"headers":{"x-user":{"regex":"test-.*"}}},
        "destinations":[{"subset":{"version":"1"},"weight":95},{"subset":{"version":"2"},"weight":5}]}],
       "nearby":{"enabled":true,"minHealthyShare":0.6},"fallback":"fail"}""";

  @Test
  void crudOfEveryKindWithVersions() {
    Http.Response put = http.put(SVC + "/rules/route", CANARY);
    assertThat(put.status()).as(put.body()).isEqualTo(200);
    assertThat(put.json().get("version").asLong()).isEqualTo(1);
    assertThat(put.json().get("rules").get(0).get("destinations").get(1).get("weight").asInt()).isEqualTo(5);

    assertThat(http.put(SVC + "/rules/loadbalance", "{\"policy\":\"adaptive\",\"adaptive\":{\"probeShare\":0.2}}")
        .status()).isEqualTo(200);
    assertThat(http.put(SVC + "/rules/circuitbreaker",
        "{\"instance\":{\"consecutiveErrors\":3,\"openMs\":5000},\"maxEjectionShare\":0.3}").status()).isEqualTo(200);
    assertThat(http.put(SVC + "/rules/ratelimit",
        "{\"rules\":[{\"name\":\"pay\",\"limit\":100,\"match\":{\"method\":{\"exact\":\"/pay\"}},\"scope\":\"cluster\"}]}")
        .status()).isEqualTo(200);

    JsonNode lb = http.get(SVC + "/rules/loadbalance").json();
    assertThat(lb.get("policy").asText()).isEqualTo("adaptive");
    // 64-bit fields are JSON numbers, not the proto3 mapping's strings
    assertThat(lb.get("version").isNumber()).as("version is a number: %s", lb).isTrue();
    JsonNode limit = http.get(SVC + "/rules/ratelimit").json().at("/rules/0/limit");
    assertThat(limit.isNumber()).as("limit is a number: %s", limit).isTrue();
    assertThat(limit.asLong()).isEqualTo(100);
    assertThat(lb.get("adaptive").get("probeShare").asDouble()).isEqualTo(0.2);

    // a second put bumps the version; a conditional put on a stale version is refused
    JsonNode v2 = http.put(SVC + "/rules/route?version=1", CANARY.replace("95", "90")).json();
    assertThat(v2.get("version").asLong()).isEqualTo(2);
    Http.Response stale = http.put(SVC + "/rules/route?version=1", CANARY);
    assertThat(stale.status()).isEqualTo(409);
    assertThat(stale.json().get("error").get("field").asText()).isEqualTo("version");

    JsonNode all = http.get(SVC + "/rules").json();
    assertThat(all.get("rules").fieldNames()).toIterable()
        .containsExactlyInAnyOrder("loadbalance", "route", "circuitbreaker", "ratelimit");

    assertThat(http.delete(SVC + "/rules/ratelimit").status()).isEqualTo(200);
    assertThat(http.get(SVC + "/rules/ratelimit").status()).isEqualTo(404);
    assertThat(http.delete(SVC + "/rules/ratelimit").status()).isEqualTo(404);
    assertThat(http.get(SVC + "/rules/bogus").json().get("error").get("field").asText()).isEqualTo("kind");
  }

  @Test
  void namespaceDefaultsFillKindsTheServiceDoesNotSetAndBumpTheRevision() {
    http.post("/v1/namespaces", "{\"name\":\"defaults\"}");
    String SVC = "/v1/namespaces/defaults/services/orders";
    http.post(SVC + "/instances", "{\"host\":\"10.0.0.1\",\"port\":80}");
    http.put(SVC + "/rules/loadbalance", "{\"policy\":\"round_robin\"}");
    long rev = http.get(SVC + "/rules").json().get("revision").asLong();
    assertThat(http.put("/v1/namespaces/defaults/rules/loadbalance", "{\"policy\":\"maglev\"}").status()).isEqualTo(200);
    assertThat(http.put("/v1/namespaces/defaults/rules/circuitbreaker", "{\"maxEjectionShare\":0.2}").status())
        .isEqualTo(200);
    JsonNode rules = http.get(SVC + "/rules").json();
    assertThat(rules.get("revision").asLong()).isGreaterThan(rev);
    assertThat(rules.get("effective").get("loadbalance").get("policy").asText()).isEqualTo("round_robin");
    assertThat(rules.get("effective").get("circuitbreaker").get("maxEjectionShare").asDouble()).isEqualTo(0.2);
    assertThat(rules.get("rules").has("circuitbreaker")).isFalse();
    assertThat(http.get(SVC + "/rules/circuitbreaker").status()).isEqualTo(404);
    assertThat(http.get(SVC + "/rules/circuitbreaker?effective=true").status()).isEqualTo(200);
    assertThat(http.get("/v1/namespaces/defaults/rules/loadbalance").json().get("policy").asText()).isEqualTo("maglev");
  }

  /**
   * Enumerated fields are proto enums inside; REST reads and writes them exactly as it did when
   * they were strings: lower case, in the fields' old places, and the same refusal for a bad one.
   */
  @Test
  void enumeratedFieldsKeepTheirLowerCaseJsonSpelling() {
    Http.Response put = http.put(SVC + "-enums/rules/ratelimit", "{\"rules\":[{\"name\":\"a\",\"limit\":10,"
        + "\"algorithm\":\"token_bucket\",\"burst\":20,\"action\":\"wait\",\"maxWaitMs\":200,"
        + "\"scope\":\"cluster\",\"failMode\":\"closed\"}]}");
    assertThat(put.status()).as(put.body()).isEqualTo(200);
    assertThat(put.body()).contains("\"rules\":[{\"name\":\"a\",\"limit\":10,\"algorithm\":\"token_bucket\","
        + "\"burst\":20,\"action\":\"wait\",\"maxWaitMs\":200,\"scope\":\"cluster\",\"failMode\":\"closed\"}]");
    Http.Response lb = http.put(SVC + "-enums/rules/loadbalance", "{\"policy\":\"ring_hash\",\"hashHeader\":\"x-user\"}");
    assertThat(lb.body()).contains("\"policy\":\"ring_hash\",\"hashHeader\":\"x-user\"");
    assertThat(http.get(SVC + "-enums/rules").body()).contains("\"policy\":\"ring_hash\"")
        .doesNotContain("RING_HASH").doesNotContain("TOKEN_BUCKET");
    for (String bad : java.util.List.of("\"RING_HASH\"", "\"policy_unspecified\"", "4", "\"fastest\"")) {
      Http.Response r = http.put(SVC + "-enums/rules/loadbalance", "{\"policy\":" + bad + "}");
      assertThat(r.status()).as(r.body()).isEqualTo(400);
      assertThat(r.json().at("/error/message").asText()).isEqualTo("policy must be one of weighted_random, "
          + "round_robin, least_request, ring_hash, maglev, adaptive; got '" + bad.replace("\"", "") + "'");
    }
    assertThat(http.delete(SVC + "-enums/rules/ratelimit").body()).isEqualTo("{\"deleted\":\"ratelimit\"}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      bad regex             | route        | {"rules":[{"match":{"headers":{"x-user":{"regex":"(["}}},"destinations":[{}]}]} | rules[0].match.headers.x-user.regex
      two operators         | route        | {"rules":[{"match":{"labels":{"env":{"exact":"a","in":["b"]}}},"destinations":[{}]}]} | rules[0].match.labels.env
      no destinations       | route        | {"rules":[{"name":"x"}]}                      | rules[0].destinations
      weight too large      | route        | {"rules":[{"destinations":[{"weight":10001}]}]} | rules[0].destinations[0].weight
      bad fallback          | route        | {"fallback":"maybe"}                          | fallback
      bad share             | route        | {"nearby":{"enabled":true,"minHealthyShare":1.5}} | nearby.minHealthyShare
      unknown policy        | loadbalance  | {"policy":"fastest"}                          | policy
      hash key without hash | loadbalance  | {"policy":"round_robin","hashHeader":"x-user"} | hashHeader
      one-step recovery     | loadbalance  | {"policy":"adaptive","adaptive":{"recoveryStep":1.0}} | adaptive.recoveryStep
      unknown field         | loadbalance  | {"policy":"maglev","colour":"red"}            | colour
      malformed JSON        | loadbalance  | {"policy":                                    | body
      error rate            | circuitbreaker | {"instance":{"errorRate":2}}                | instance.errorRate
      probes                | circuitbreaker | {"methods":{"/pay":{"halfOpenProbes":2,"successesToClose":3}}} | methods./pay.successesToClose
      ejection              | circuitbreaker | {"maxEjectionShare":-0.1}                   | maxEjectionShare
      no name               | ratelimit    | {"rules":[{"limit":5}]}                       | rules[0].name
      zero limit            | ratelimit    | {"rules":[{"name":"a","limit":0}]}            | rules[0].limit
      duplicate name        | ratelimit    | {"rules":[{"name":"a","limit":1},{"name":"a","limit":2}]} | rules[1].name
      bad action            | ratelimit    | {"rules":[{"name":"a","limit":1,"action":"queue"}]} | rules[0].action
      cluster window        | ratelimit    | {"rules":[{"name":"a","limit":1,"scope":"cluster","algorithm":"sliding_window"}]} | rules[0].algorithm
      fractional uint32     | loadbalance  | {"policy":"adaptive","adaptive":{"updateIntervalMs":1.5}} | adaptive.updateIntervalMs
      text for a uint32     | loadbalance  | {"policy":"adaptive","adaptive":{"updateIntervalMs":"abc"}} | adaptive.updateIntervalMs
      negative uint32       | circuitbreaker | {"instance":{"windowMs":-1}}                | instance.windowMs
      a null rule           | ratelimit    | {"rules":[null]}                              | rules[0]
      a null map value      | circuitbreaker | {"methods":{"/pay":null}}                   | methods./pay
      a number for a string | ratelimit    | {"rules":[{"name":5,"limit":1}]}              | rules[0].name
      """)
  void badRulesAreRefusedNamingTheFieldAndStoreNothing(String name, String kind, String body, String field) {
    Http.Response r = http.put(SVC + "-bad/rules/" + kind, body);
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    JsonNode err = r.json().get("error");
    assertThat(err.get("code").asText()).isEqualTo("invalid_argument");
    assertThat(err.get("field").asText()).isEqualTo(field);
    assertThat(err.get("message").asText()).isNotBlank();
    // Nothing stored: no rule of that kind and no service appeared. (The registry's revision is not
    // compared: other tests' instances on this shared server may expire meanwhile and move it.)
    assertThat(http.get(SVC + "-bad/rules/" + kind).status()).isEqualTo(404);
    assertThat(server.stateMachine().registry().view("default", "orders-bad")).isNull();
  }

  @Test
  void rulesSurviveARestartFromTheLogAndFromASnapshot(@TempDir Path own) {
    LodestarServer server = LodestarServer.builder().port(0).dataDir(own).build().start();
    Http http = new Http(server.port());
    http.put(SVC + "/rules/route", CANARY);
    http.put("/v1/namespaces/default/rules/ratelimit", "{\"rules\":[{\"name\":\"all\",\"limit\":1000}]}");
    server.close();
    server = LodestarServer.builder().port(0).dataDir(own).build().start();
    http = new Http(server.port());
    assertThat(http.get(SVC + "/rules/route").json().get("version").asLong()).isEqualTo(1);
    assertThat(http.get(SVC + "/rules/ratelimit?effective=true").json().get("rules").get(0).get("limit").asLong())
        .isEqualTo(1000);

    http.put(SVC + "/rules/route", CANARY);
    server.snapshot();
    server.close();
    server = LodestarServer.builder().port(0).dataDir(own).build().start();
    http = new Http(server.port());
    try {
      assertThat(http.get(SVC + "/rules/route").json().get("version").asLong()).isEqualTo(2);
      assertThat(http.get("/v1/namespaces/default/rules/ratelimit").status()).isEqualTo(200);
    } finally {
      server.close();
    }
  }
}
