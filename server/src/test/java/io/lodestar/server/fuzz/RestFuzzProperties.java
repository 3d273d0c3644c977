package io.lodestar.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.server.LodestarServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every REST decoder that writes, over real HTTP against a real server, with valid bodies whose
 * fields are replaced by hostile values (deep nesting, huge numbers, control characters), bodies
 * with invalid UTF-8 spliced in, and hostile names in the path. Each answer is below 500; an
 * accepted instance reads back exactly as the server answered it.
 */
class RestFuzzProperties {
  static final ObjectMapper JSON = new ObjectMapper();
  static Path dir;
  static LodestarServer server;
  static HttpClient http;

  record Call(String method, String path, String template) {}

  static final List<Call> CALLS = List.of(
      new Call("POST", "/v1/namespaces/default/services/{n}/instances",
          "{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":1,\"metadata\":{\"k\":\"v\"},\"ttlSeconds\":30,\"protocol\":\"http\"}"),
      new Call("PATCH", "/v1/namespaces/default/services/fz/instances/{n}", "{\"weight\":5,\"isolated\":false}"),
      new Call("POST", "/v1/namespaces", "{\"name\":\"ns\",\"description\":\"d\"}"),
      new Call("PUT", "/v1/namespaces/default/services/{n}", "{\"metadata\":{\"k\":\"v\"},\"protectThreshold\":0.5}"),
      new Call("PUT", "/v1/namespaces/default/configs/g/{n}?format=json", "{\"a\":1}"),
      new Call("PUT", "/v1/namespaces/default/configs/g/{n}/gray", "{\"labels\":{\"zone\":\"a\"},\"content\":\"x\"}"),
      new Call("PUT", "/v1/namespaces/default/services/{n}/rules/loadbalance", "{\"policy\":\"ROUND_ROBIN\"}"),
      new Call("PUT", "/v1/namespaces/default/services/{n}/rules/ratelimit",
          "{\"rules\":[{\"maxAmount\":10,\"validDurationMs\":1000}]}"),
      new Call("PUT", "/v1/agent/service/register", "{\"Name\":\"svc\",\"Address\":\"10.0.0.2\",\"Port\":81,"
          + "\"Tags\":[\"a\"],\"Meta\":{\"k\":\"v\"},\"Check\":{\"TTL\":\"10s\"}}"),
      new Call("PUT", "/v1/kv/{n}", "value"));

  @BeforeContainer
  static void start() throws IOException {
    dir = Files.createTempDirectory("lodestar-rest-fuzz");
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  }

  @AfterContainer
  static void stop() {
    server.close();
  }

  /** A template's body with one string or number replaced by a hostile JSON value. */
  static String replaceOneValue(String template, int which, String value) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(":(\"[^\"]*\"|-?[0-9.]+|true|false)").matcher(template);
    List<int[]> spots = new java.util.ArrayList<>();
    while (m.find()) {
      spots.add(new int[] {m.start(1), m.end(1)});
    }
    if (spots.isEmpty()) {
      return value;
    }
    int[] s = spots.get(Math.floorMod(which, spots.size()));
    return template.substring(0, s[0]) + value + template.substring(s[1]);
  }

  @Provide
  Arbitrary<Object[]> requests() {
    Arbitrary<Call> call = Arbitraries.of(CALLS);
    Arbitrary<String> name = Arbitraries.oneOf(Arbitraries.just("ok-name"), Hostile.names());
    Arbitrary<Integer> how = Arbitraries.integers().between(0, 3);
    return Combinators.combine(call, name, how, Arbitraries.integers(), Hostile.jsonValues(), Arbitraries.longs())
        .as((c, n, h, which, value, seed) -> {
          byte[] body = switch (h) {
            case 0 -> c.template().getBytes(StandardCharsets.UTF_8);
            case 1, 2 -> replaceOneValue(c.template(), which, value).getBytes(StandardCharsets.UTF_8);
            default -> Hostile.mutate(c.template().getBytes(StandardCharsets.UTF_8), seed);
          };
          return new Object[] {c, n, body};
        });
  }

  private static String encode(String segment) {
    return java.net.URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Property(tries = 200)
  void everyAnswerIsBelow500AndAnAcceptedInstanceReadsBackAsAnswered(@ForAll("requests") Object[] r)
      throws Exception {
    Call call = (Call) r[0];
    String name = (String) r[1];
    byte[] body = (byte[]) r[2];
    String segment = encode(name);
    URI uri;
    try {
      uri = URI.create("http://127.0.0.1:" + server.port() + call.path().replace("{n}", segment));
    } catch (IllegalArgumentException e) {
      return;
    }
    HttpResponse<String> res = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
        .method(call.method(), HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).as("%s %s with %s -> %s", call.method(), uri,
        new String(body, StandardCharsets.UTF_8), res.body()).isLessThan(500);
    if (call.path().endsWith("/instances") && call.method().equals("POST") && res.statusCode() / 100 == 2) {
      JsonNode answered = JSON.readTree(res.body());
      JsonNode stored = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
          + "/v1/namespaces/default/services/" + segment + "/instances")).GET().build(),
          HttpResponse.BodyHandlers.ofString()).body());
      JsonNode id = answered.path("id");
      assertThat(id.isTextual()).as("the answer is the stored instance: %s", res.body()).isTrue();
      boolean found = false;
      for (JsonNode i : stored.path("instances")) {
        if (i.path("id").equals(id)) {
          found = true;
          assertThat(i.path("host")).isEqualTo(answered.path("host"));
          assertThat(i.path("port")).isEqualTo(answered.path("port"));
          assertThat(i.path("weight")).isEqualTo(answered.path("weight"));
          assertThat(i.path("metadata")).isEqualTo(answered.path("metadata"));
        }
      }
      assertThat(found).as("the accepted instance %s is stored", id).isTrue();
    }
  }
}
