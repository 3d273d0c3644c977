package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.client.governance.ErrorKind;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.governance.Outcome;
import io.lodestar.client.route.CallContext;
import io.lodestar.server.LodestarServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lodestar top} against a real server fed by a real SDK's call statistics. */
class TopCliTest {
  @TempDir static Path dataDir;
  static LodestarServer server;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dataDir).build().start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static CliRun cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--server");
    all.add("127.0.0.1:" + server.port());
    return CliRun.run(Map.of(), all.toArray(String[]::new));
  }

  @Test
  void showsTheBusiestAndTheMostFailingEdges() throws Exception {
    try (LodestarClient client = LodestarClient.builder().servers("127.0.0.1:" + server.port())
        .requestTimeout(Duration.ofSeconds(30)).build();
        Governor orders = Governor.builder(client).callerService("orders").build();
        Governor web = Governor.builder(client).callerService("web").build()) {
      Instance pay = client.register(RegistrationSpec.builder().service("payments").host("10.0.0.1").port(80).build());
      Instance ord = client.register(RegistrationSpec.builder().service("orders").host("10.0.0.2").port(80).build());
      CallContext ctx = CallContext.empty();
      for (int i = 0; i < 120; i++) {
        web.report(ord, ctx, Outcome.SUCCESS, 3_000_000);
      }
      for (int i = 0; i < 30; i++) {
        orders.report(pay, ctx, i < 6 ? ErrorKind.SERVER_ERROR : null, 5_000_000);
      }
      web.flushCallStats();
      orders.flushCallStats();

      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        String out = cli("top", "--once", "--window", "5m").expect(0).out();
        String[] parts = out.split("MOST FAILING");
        assertThat(parts).hasSize(2);
        // busiest first: web → orders (120 calls) above orders → payments (30)
        assertThat(parts[0]).containsPattern("(?s)web\\s+orders\\s+0\\.40\\s+0\\.0%.*orders\\s+payments\\s+0\\.10\\s+20\\.0%");
        assertThat(parts[1]).containsPattern("orders\\s+payments\\s+0\\.10\\s+20\\.0%\\s+5\\.0\\s+5\\.0\\s+5\\.0\\s+server_error=6");
        assertThat(parts[1]).doesNotContain("web");
      });

      JsonNode t = Json.read(cli("top", "default", "--json", "--window", "5m").expect(0).out());
      assertThat(t.get("edges")).hasSize(2);
      assertThat(t.get("nodes").findValuesAsText("service")).contains("web", "orders", "payments");
    }
  }

  @Test
  void badInputIsRefused() {
    assertThat(cli("top", "--once", "--window", "5 minutes").expect(1).err()).contains("window");
    cli("top", "--interval", "0").expect(2);
  }
}
