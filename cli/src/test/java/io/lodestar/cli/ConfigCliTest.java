package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.LodestarServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config verbs against a real in-process server. */
class ConfigCliTest {
  @TempDir static Path dataDir;
  @TempDir static Path files;
  static LodestarServer server;
  static String address;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    address = "127.0.0.1:" + server.port();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String[] args(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--server");
    all.add(address);
    return all.toArray(String[]::new);
  }

  static CliRun cli(String... a) {
    return CliRun.run(Map.of("USER", "tester"), args(a));
  }

  @Test
  void putGetHistoryRollback() throws Exception {
    Path f = files.resolve("db.properties");
    Files.writeString(f, "url=jdbc:one\n");
    assertThat(cli("config", "put", "app", "db.properties", f.toString(), "-m", "first").expect(0).out())
        .isEqualTo("published default/app/db.properties version 1\n");
    CliRun fromStdin = CliRun.withInput("url=jdbc:two\n", Map.of("USER", "tester"),
        args("config", "put", "app", "db.properties", "-"));
    fromStdin.expect(0);
    CliRun got = cli("config", "get", "app", "db.properties").expect(0);
    assertThat(got.out()).isEqualTo("url=jdbc:two\n");
    assertThat(got.err()).contains("version 2");
    assertThat(cli("config", "get", "app", "db.properties", "--version", "1").expect(0).out()).isEqualTo("url=jdbc:one\n");

    CliRun history = cli("config", "history", "app", "db.properties").expect(0);
    assertThat(history.out()).containsPattern("VERSION\\s+TIME\\s+AUTHOR").containsPattern("\\n2\\s+\\S+\\s+tester")
        .contains("first");
    assertThat(cli("config", "rollback", "app", "db.properties", "1").expect(0).out()).contains("as version 3");
    assertThat(cli("config", "get", "app", "db.properties").out()).isEqualTo("url=jdbc:one\n");
    assertThat(cli("config", "list").expect(0).out()).containsPattern("app\\s+db.properties\\s+properties\\s+3");

    // Refusals carry the server's message and field.
    Files.writeString(f, "a=\\u12G4\n");
    CliRun bad = cli("config", "put", "app", "db.properties", f.toString());
    bad.expect(1);
    assertThat(bad.err()).contains("line 1").contains("content");
    assertThat(cli("config", "put", "app", "db.properties", f + ".missing").expect(2).err()).contains("no such file");
    assertThat(cli("config", "put", "app", "x.txt", f.toString(), "--if-match", "5").expect(1).err()).contains("version");
  }

  @Test
  void grayPublishStatusPromote() throws Exception {
    Path f = files.resolve("g.yaml");
    Files.writeString(f, "v: 1\n");
    cli("config", "put", "app", "g.yaml", f.toString()).expect(0);
    Files.writeString(f, "v: 2\n");
    assertThat(cli("config", "gray", "app", "g.yaml", "--publish", f.toString(), "--labels", "zone=sh").expect(0).out())
        .contains("version 2");
    assertThat(cli("config", "get", "app", "g.yaml", "--client-id", "c1", "--labels", "zone=sh").out())
        .isEqualTo("v: 2\n");
    cli("config", "get", "app", "g.yaml", "--client-id", "c2").expect(0);
    CliRun status = cli("config", "gray", "app", "g.yaml").expect(0);
    assertThat(status.out()).contains("gray candidate version 2 for labels zone=sh")
        .containsPattern("c1\\s+\\S+\\s+2\\s+yes\\s+rest").containsPattern("c2\\s+\\S+\\s+1\\s+-\\s+rest");
    assertThat(cli("config", "gray", "app", "g.yaml", "--promote").expect(0).out()).contains("release is now version 2");
    assertThat(cli("config", "gray", "app", "g.yaml", "--abort").expect(1).err()).contains("no gray release");
  }

  @Test
  void watchPrintsEachNewVersion() throws Exception {
    Path f = files.resolve("w.txt");
    Files.writeString(f, "one");
    cli("config", "put", "app", "w.txt", f.toString()).expect(0);
    CliRun watch = new CliRun();
    CompletableFuture<Void> running = CompletableFuture.runAsync(() ->
        watch.exec(Map.of(), args("config", "watch", "app", "w.txt", "--count", "1")));
    await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().contains("version 1"));
    Files.writeString(f, "two");
    cli("config", "put", "app", "w.txt", f.toString()).expect(0);
    running.get(30, java.util.concurrent.TimeUnit.SECONDS);
    watch.expect(0);
    assertThat(watch.out()).isEqualTo("=== default/app/w.txt version 1 ===\none\n=== default/app/w.txt version 2 ===\ntwo\n");
  }
}
