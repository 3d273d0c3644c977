package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.route.CallContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lane rules through a real server and the real SDK: B has a gray instance in lane canary, C has
 * none. A tagged call reaches gray B and baseline C (fallback), or fails at C when the lane says
 * fail; an untagged call never reaches gray B; a lane's match puts an untagged call in the lane.
 */
class LaneIntegrationTest {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static TestServer server;
  static LodestarClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(dir);
    client = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void taggedCallsStayInTheLaneUntaggedOnesNeverEnterIt() throws Exception {
    Instance bBase = client.register(RegistrationSpec.builder().service("lane-b").host("10.1.0.1").port(80).build());
    Instance bGray = client.register(RegistrationSpec.builder().service("lane-b").host("10.1.0.2").port(80)
        .metadata(Map.of("lane", "canary")).build());
    Instance cBase = client.register(RegistrationSpec.builder().service("lane-c").host("10.1.0.3").port(80).build());
    assertThat(put("/v1/namespaces/default/rules/lane", "{\"lanes\":[{\"name\":\"canary\"}]}").statusCode())
        .isEqualTo(200);

    try (Governor gov = Governor.builder(client).build()) {
      CallContext tagged = CallContext.builder().header(Governor.LANE_HEADER, "canary").build();
      CallContext untagged = CallContext.builder().method("/x").build();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(gov.choose("lane-b", tagged).id()).isEqualTo(bGray.id()));
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 200; i++) {
        assertThat(gov.choose("lane-b", tagged).id()).isEqualTo(bGray.id());
        seen.add(gov.choose("lane-b", untagged).id());
      }
      assertThat(seen).containsExactly(bBase.id());
      // C has no canary instance: the tagged call falls back to its baseline
      assertThat(gov.choose("lane-c", tagged).id()).isEqualTo(cBase.id());
      assertThat(gov.lane("default", "lane-c", tagged)).isEqualTo("canary");
      assertThat(gov.lane("default", "lane-c", untagged)).isNull();

      // fail closed, and a match that puts untagged calls of user beta in the lane
      assertThat(put("/v1/namespaces/default/rules/lane", "{\"lanes\":[{\"name\":\"canary\",\"fallback\":\"fail\","
          + "\"match\":{\"headers\":{\"x-user\":{\"exact\":\"beta\"}}}}]}").statusCode()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThatThrownBy(() -> gov.choose("lane-c", tagged))
          .isInstanceOfSatisfying(GovernanceException.class,
              e -> assertThat(e.reason()).isEqualTo(GovernanceException.Reason.LANE_EMPTY)));
      CallContext beta = CallContext.builder().header("x-user", "beta").build();
      assertThat(gov.choose("lane-b", beta).id()).isEqualTo(bGray.id());
      assertThat(gov.lane("default", "lane-b", beta)).isEqualTo("canary");
    }
  }

  @Test
  void laneRulesAreValidatedAndNamespaceScoped() throws Exception {
    HttpResponse<String> perService = put("/v1/namespaces/default/services/lane-b/rules/lane",
        "{\"lanes\":[{\"name\":\"canary\"}]}");
    assertThat(perService.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(perService.body()).at("/error/field").asText()).isEqualTo("kind");
    HttpResponse<String> badFallback = put("/v1/namespaces/default/rules/lane",
        "{\"lanes\":[{\"name\":\"canary\",\"fallback\":\"somewhere\"}]}");
    assertThat(badFallback.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(badFallback.body()).at("/error/field").asText()).isEqualTo("lanes[0].fallback");
    HttpResponse<String> twice = put("/v1/namespaces/default/rules/lane",
        "{\"lanes\":[{\"name\":\"canary\"},{\"name\":\"canary\"}]}");
    assertThat(JSON.readTree(twice.body()).at("/error/field").asText()).isEqualTo("lanes[1].name");
  }

  static HttpResponse<String> put(String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.address() + path))
        .timeout(Duration.ofSeconds(30)).PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
