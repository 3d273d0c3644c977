package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.LodestarServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lodestar rules get|put|delete} against a real server. */
class RulesCliTest {
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
  void putGetDeleteServiceAndNamespaceRules(@TempDir Path tmp) throws Exception {
    assertThat(cli("rules", "put", "orders", "loadbalance", "{\"policy\":\"adaptive\"}").expect(0).out())
        .isEqualTo("set loadbalance rule of orders (version 1)\n");
    Path file = tmp.resolve("route.json");
    Files.writeString(file, "{\"rules\":[{\"destinations\":[{\"subset\":{\"version\":\"2\"},\"weight\":5},"
        + "{\"subset\":{\"version\":\"1\"},\"weight\":95}]}]}");
    cli("rules", "put", "orders", "route", "-f", file.toString(), "--if-version", "0").expect(0);
    JsonNode lb = Json.read(cli("rules", "get", "orders", "loadbalance").expect(0).out());
    assertThat(lb.get("policy").asText()).isEqualTo("adaptive");

    cli("rules", "put", "--defaults", "ratelimit", "{\"rules\":[{\"name\":\"all\",\"limit\":50}]}").expect(0);
    JsonNode eff = Json.read(cli("rules", "get", "orders", "--effective").expect(0).out());
    assertThat(eff.get("ratelimit").get("rules").get(0).get("limit").asLong()).isEqualTo(50);
    assertThat(eff.get("route").get("rules").get(0).get("destinations")).hasSize(2);

    CliRun bad = cli("rules", "put", "orders", "loadbalance", "{\"policy\":\"fastest\"}").expect(1);
    assertThat(bad.err()).contains("policy");
    CliRun stale = cli("rules", "put", "orders", "loadbalance", "{\"policy\":\"maglev\"}", "--if-version", "7").expect(1);
    assertThat(stale.err()).contains("version");
    cli("rules", "put", "orders", "nonsense", "{}").expect(2);
    cli("rules", "put", "orders", "loadbalance", "{not json").expect(2);

    assertThat(cli("rules", "delete", "orders", "loadbalance").expect(0).out())
        .isEqualTo("deleted loadbalance rule of orders\n");
    cli("rules", "get", "orders", "loadbalance").expect(1);
    cli("rules", "delete", "--defaults", "ratelimit").expect(0);
  }
}
