package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** REST long polls: no memory kept per key once its polls end, and a cap per client address. */
class LongPollLimitsTest {
  static final int CAP = 3;
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).maxLongPollsPerClient(CAP).build().start();
    http = new Http(server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aKeysEntryGoesWithItsLastPoll() {
    for (int i = 0; i < 50; i++) {
      Http.Response r = http.get("/v1/namespaces/default/services/leak-" + i + "/instances?index=0&wait=1ms");
      assertThat(r.status()).isEqualTo(200);
    }
    // Every poll above timed out without a change; none may leave its key behind.
    await().atMost(Duration.ofSeconds(30)).until(() -> longPollKeys() == 0);
  }

  @Test
  void aClientHoldsAtMostTheCapAndGetsItsSlotsBackWhenWoken() throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String path = "/v1/namespaces/default/services/capped/instances?index=0&wait=60s";
    List<CompletableFuture<HttpResponse<String>>> parked = new ArrayList<>();
    for (int i = 0; i < CAP; i++) {
      parked.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
          .build(), HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> longPollKeys() == 1);
    Http.Response refused = http.get(path);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().at("/error/field").asText()).isEqualTo("wait");
    assertThat(refused.json().at("/error/message").asText()).contains(CAP + " long polls");
    assertThat(parked).noneMatch(CompletableFuture::isDone);

    // A change wakes the parked polls; their slots come back.
    assertThat(http.post("/v1/namespaces/default/services/capped/instances",
        "{\"host\":\"10.0.0.1\",\"port\":80}").status()).isEqualTo(201);
    for (CompletableFuture<HttpResponse<String>> f : parked) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
    assertThat(http.get("/v1/namespaces/default/services/capped/instances?index=0&wait=1ms").status())
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> longPollKeys() == 0);
  }

  private static double longPollKeys() {
    Matcher m = Pattern.compile("(?m)^lodestar_longpoll_keys\\{api=\"naming\"[^}]*\\} (\\S+)$")
        .matcher(http.get("/metrics").body());
    assertThat(m.find()).as("lodestar_longpoll_keys in /metrics").isTrue();
    return Double.parseDouble(m.group(1));
  }
}
