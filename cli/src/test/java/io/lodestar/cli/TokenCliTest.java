package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.LodestarServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lodestar token create|list|revoke}, {@code --token} and {@code LODESTAR_TOKEN} against a server with --auth. */
class TokenCliTest {
  @TempDir static Path dataDir;
  static LodestarServer server;
  static String admin;

  @BeforeAll
  static void start() throws Exception {
    server = LodestarServer.builder().port(0).dataDir(dataDir).auth(true)
        .bootstrapOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).build().start();
    Path file = dataDir.resolve("bootstrap-token");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
    admin = Files.readString(file).trim();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static CliRun cli(Map<String, String> env, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--server");
    all.add("127.0.0.1:" + server.port());
    return CliRun.run(env, all.toArray(String[]::new));
  }

  @Test
  void createListUseAndRevokeTokens(@TempDir Path tmp) throws Exception {
    Map<String, String> asAdmin = Map.of("LODESTAR_TOKEN", admin);
    JsonNode created = Json.read(cli(asAdmin, "token", "create", "ci", "--policy",
        "write:default,read:*", "--json").expect(0).out());
    String ci = created.path("secret").asText();
    assertThat(ci).startsWith("lds_");
    assertThat(created.path("policies").toString()).isEqualTo("[\"write:default\",\"read:*\"]");
    String reader = cli(asAdmin, "token", "create", "reader", "--policy", "read:default").expect(0).out().trim();
    String vault = cli(asAdmin, "token", "create", "vault", "--policy", "secrets:default").expect(0).out().trim();

    String list = cli(asAdmin, "token", "list").expect(0).out();
    assertThat(list).contains("ci").contains("write:default,read:*").contains("bootstrap").contains("admin")
        .doesNotContain(ci).doesNotContain(admin);

    // no token: 401, named; a token without the permission: 403, named; exit 1 either way
    CliRun none = cli(Map.of(), "namespaces", "create", "nope").expect(1);
    assertThat(none.err()).contains("token");
    CliRun weak = cli(Map.of(), "--token", ci, "namespaces", "create", "nope").expect(1);
    assertThat(weak.err()).contains("ci").contains("admin");
    assertThat(cli(asAdmin, "token", "list").expect(0).out()).doesNotContain("nope");

    // a secret config: only secrets:default reads it in clear; the others see the mask
    Path f = tmp.resolve("db.properties");
    Files.writeString(f, "password=hunter2\n");
    cli(Map.of(), "--token", ci, "config", "put", "app", "db.properties", f.toString(), "--secret").expect(0);
    assertThat(cli(Map.of(), "--token", reader, "config", "get", "app", "db.properties").expect(0).out())
        .doesNotContain("hunter2").contains("******");
    assertThat(cli(Map.of(), "--token", vault, "config", "get", "app", "db.properties").expect(0).out())
        .isEqualTo("password=hunter2\n");

    // --token wins over LODESTAR_TOKEN; revoking ends the token at once
    cli(Map.of("LODESTAR_TOKEN", "lds_wrong"), "--token", reader, "services").expect(0);
    assertThat(cli(asAdmin, "token", "revoke", "reader").expect(0).out()).isEqualTo("revoked token reader\n");
    assertThat(cli(Map.of(), "--token", reader, "services").expect(1).err()).contains("revoked");

    // the audit trail names the CLI's writes
    String audit = cli(asAdmin, "audit").expect(0).out();
    assertThat(audit).contains("ci").contains("publish_config").contains("app/db.properties");
  }
}
