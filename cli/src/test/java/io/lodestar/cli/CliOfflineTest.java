package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What the CLI does without a server: usage errors, an unreachable server, parsing helpers. */
class CliOfflineTest {
  private static final Map<String, String> NO_ENV = Map.of();

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void helpAndVersionExitZero() {
    CliRun help = CliRun.run(NO_ENV, "--help").expect(0);
    assertThat(help.out()).contains("register", "deregister", "instances", "services", "watch", "namespaces");
    CliRun reg = CliRun.run(NO_ENV, "register", "--help").expect(0);
    assertThat(reg.out()).contains("--host", "--port", "--keepalive", "--check", "--server", "--json", "--namespace");
    assertThat(CliRun.run(NO_ENV, "--version").expect(0).out()).startsWith("lodestar ");
  }

  @Test
  void noVerbIsAUsageError() {
    CliRun r = CliRun.run(NO_ENV).expect(2);
    assertThat(r.err()).contains("lodestar: missing command").contains("register");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void unknownVerbSuggestsTheRightOne() {
    CliRun r = CliRun.run(NO_ENV, "servics").expect(2);
    assertThat(r.err()).contains("unknown command 'servics'").contains("services");
  }

  @Test
  void missingRequiredOptionIsAUsageError() {
    CliRun r = CliRun.run(NO_ENV, "register", "orders", "--host", "10.0.0.1").expect(2);
    assertThat(r.err()).startsWith("lodestar: Missing required option: '--port=PORT'")
        .contains("lodestar register --help");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void badOptionValuesAreUsageErrors() {
    assertThat(CliRun.run(NO_ENV, "register", "s", "--host", "h", "--port", "eighty").expect(2).err())
        .contains("'eighty' is not an int");
    assertThat(CliRun.run(NO_ENV, "register", "s", "--host", "h", "--port", "80", "--check", "ftp").expect(2).err())
        .contains("'ftp' is not a check: use tcp, http or http:/PATH");
    assertThat(CliRun.run(NO_ENV, "register", "s", "--host", "h", "--port", "80", "--meta", "novalue=").code)
        .isNotEqualTo(2);  // empty values are fine; they only fail later, on the unreachable server
    assertThat(CliRun.run(NO_ENV, "register", "s", "--host", "h", "--port", "80", "--persistent", "--keepalive")
        .expect(2).err()).contains("--keepalive applies to ephemeral instances only");
    assertThat(CliRun.run(NO_ENV, "register", "s", "--host", "h", "--port", "80", "--persistent", "--ttl", "5")
        .expect(2).err()).contains("--ttl applies to ephemeral instances only");
    assertThat(CliRun.run(NO_ENV, "register", "s", "--host", "h", "--port", "80", "--check-interval", "5")
        .expect(2).err()).contains("need --check");
    assertThat(CliRun.run(NO_ENV, "watch", "s", "--count", "0").expect(2).err())
        .contains("--count must be at least 1");
    assertThat(CliRun.run(NO_ENV, "deregister", "s").expect(2).err()).contains("Missing required parameter: 'ID'");
    assertThat(CliRun.run(NO_ENV, "namespaces", "create").expect(2).err()).contains("Missing required parameter: 'NAME'");
    assertThat(CliRun.run(NO_ENV, "services", "--bogus").expect(2).err()).contains("Unknown option: '--bogus'");
  }

  @Test
  void aMemberAddressThatCannotBeIsAUsageErrorBeforeAnyCall() throws IOException {
    Map<String, String> env = Map.of("LODESTAR_SERVER", "127.0.0.1:" + closedPort());
    for (String bad : new String[] {"n4=h:abc", "n4=h:0", "n4=h:65536", "n4=:80", "n4=h", "n4=h:80/x", "n4=h:80/0"}) {
      assertThat(CliRun.run(env, "cluster", "add", bad).expect(2).err()).as(bad)
          .contains("expected ID=HOST:PORT with a port from 1 to 65535", bad);
    }
    assertThat(CliRun.run(env, "cluster", "add", "n4=h:80", "--raft-port", "70000").expect(2).err())
        .contains("--raft-port must be from 1 to 65535");
    // well formed: it gets as far as the (absent) server
    assertThat(CliRun.run(env, "cluster", "add", "n4=h:80/81").expect(3).err()).contains("cannot reach");
  }

  @Test
  void grayCandidateOptionsWithoutPublishAreUsageErrorsNotIgnored() throws IOException {
    Map<String, String> env = Map.of("LODESTAR_SERVER", "127.0.0.1:" + closedPort());
    assertThat(CliRun.run(env, "config", "gray", "app", "g.yaml", "--labels", "zone=a").expect(2).err())
        .contains("--labels goes with --publish");
    assertThat(CliRun.run(env, "config", "gray", "app", "g.yaml", "--promote", "--percent", "10").expect(2).err())
        .contains("--percent goes with --publish");
    assertThat(CliRun.run(env, "config", "gray", "app", "g.yaml", "--abort", "--addresses", "10.0.0.1").expect(2).err())
        .contains("--addresses goes with --publish");
    assertThat(CliRun.run(env, "config", "gray", "app", "g.yaml", "--promote", "-m", "why").expect(2).err())
        .contains("--comment goes with --publish");
    assertThat(CliRun.run(env, "config", "gray", "app", "g.yaml", "--abort").expect(3).err()).contains("cannot reach");
  }

  @Test
  void anEmptyNameIsAUsageErrorNotACallToAnotherPath() {
    // each once reached another resource: instances '' asked for a service called "instances"
    assertThat(CliRun.run(NO_ENV, "instances", "").expect(2).err()).contains("SERVICE must not be empty");
    assertThat(CliRun.run(NO_ENV, "services", "-n", "").expect(2).err()).contains("--namespace must not be empty");
    assertThat(CliRun.run(NO_ENV, "register", " ", "--host", "10.0.0.1", "--port", "80").expect(2).err())
        .contains("SERVICE must not be empty");
    assertThat(CliRun.run(NO_ENV, "deregister", "orders", "").expect(2).err()).contains("ID must not be empty");
    assertThat(CliRun.run(NO_ENV, "namespaces", "delete", "").expect(2).err()).contains("NAME must not be empty");
    assertThat(CliRun.run(NO_ENV, "services", "--server", "").expect(2).err()).contains("--server must not be empty");
  }

  @Test
  void aTokenWithAControlCharacterIsAUsageErrorThatDoesNotPrintIt() throws IOException {
    String at = "127.0.0.1:" + closedPort();
    CliRun r = CliRun.run(NO_ENV, "services", "--server", at, "--token", "lds_secret\npart").expect(2);
    assertThat(r.err()).contains("a stray newline?").doesNotContain("secret").doesNotContain("part");
    CliRun env = CliRun.run(Map.of("LODESTAR_TOKEN", "lds_secret\n"), "services", "--server", at).expect(2);
    assertThat(env.err()).contains("LODESTAR_TOKEN").doesNotContain("secret");
  }

  @Test
  void whatCannotBeReadOrParsedIsAUsageErrorBeforeAnyCall(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws IOException {
    String at = "127.0.0.1:" + closedPort(); // nothing listens: a call would exit 3, not 2
    // the server refuses a second value; the CLI sent the first and said "set"
    assertThat(CliRun.run(NO_ENV, "rules", "put", "chk", "loadbalance", "{\"policy\":\"adaptive\"}{\"policy\":\"x\"}",
        "--server", at).expect(2).err()).contains("not valid JSON");
    assertThat(CliRun.run(NO_ENV, "rules", "put", "chk", "loadbalance", "{\"policy\":\"adaptive\"}xyz", "--server", at)
        .expect(2).err()).contains("not valid JSON");
    assertThat(CliRun.withInput("", NO_ENV, "rules", "put", "chk", "loadbalance", "-f", "-", "--server", at)
        .expect(2).err()).contains("it is empty");
    assertThat(CliRun.run(NO_ENV, "config", "put", "app", "x.json", dir.toString(), "--server", at).expect(2).err())
        .contains("is a directory, not a file").doesNotContain("Exception");
    assertThat(CliRun.run(NO_ENV, "rules", "put", "chk", "loadbalance", "-f", dir.resolve("none.json").toString(),
        "--server", at).expect(2).err()).contains("no such file");
  }

  @Test
  void configWatchOnAServerThatIsNotThereExitsAsWatchDoes() throws IOException {
    String at = "127.0.0.1:" + closedPort();
    CliRun r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> CliRun.run(NO_ENV, "config", "watch", "app", "x.json", "-c", "1", "--server", at)); // it retried forever
    r.expect(3);
    assertThat(CliRun.run(NO_ENV, "watch", "web", "-c", "1", "--server", at).code).isEqualTo(3);
  }

  /** The launchers' own usage (printed without starting a JVM) names every verb: heartbeat was missing. */
  @Test
  void theLaunchersUsageNamesEveryVerb() throws IOException {
    for (String launcher : java.util.List.of("../lodestar", "../dist/src/bin/lodestar")) {
      String script = java.nio.file.Files.readString(java.nio.file.Path.of(launcher));
      String usage = script.substring(script.indexOf("usage: lodestar"), script.indexOf("\nUSAGE"));
      java.util.Set<String> named = new java.util.HashSet<>();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)(?:^  |\\s{2,})([a-z]+)\\s{2,}").matcher(usage);
      while (m.find()) {
        named.add(m.group(1));
      }
      assertThat(named).as(launcher).containsAll(VerbLookup.BY_NAME.keySet().stream()
          .filter(v -> !v.equals("ns")).toList()); // ns: namespaces' alias
    }
  }

  /** A call builds its verb only (start time): the lookup that picks it agrees with the full tree. */
  @Test
  void theVerbLookupAgreesWithTheCommandTree() {
    CommandLine full = Main.tree(new Main(), null);
    VerbLookup.BY_NAME.forEach((name, type) -> {
      assertThat(full.getSubcommands().get(name)).as(name).isNotNull();
      assertThat(full.getSubcommands().get(name).getCommand().getClass()).as(name).isEqualTo(type);
      assertThat(Main.tree(new Main(), type).getSubcommands()).as(name).containsKey(name);
    });
    assertThat(full.getSubcommands().keySet()).containsAll(VerbLookup.BY_NAME.keySet())
        .hasSize(VerbLookup.BY_NAME.size() + 1);  // and help, which takes the full tree
    assertThat(VerbLookup.verbOf(new String[] {"instances", "orders"})).isEqualTo(InstancesCommand.class);
    assertThat(VerbLookup.verbOf(new String[] {"--server", "h:1", "--json", "-n", "prod", "--timeout=3", "ns"}))
        .isEqualTo(NamespacesCommand.class);
    assertThat(VerbLookup.verbOf(new String[] {"--server", "instances"})).isNull();
    assertThat(VerbLookup.verbOf(new String[] {"--help", "instances"})).isNull();
    assertThat(VerbLookup.verbOf(new String[] {"help", "instances"})).isNull();
    assertThat(VerbLookup.verbOf(new String[] {"-nprod", "instances"})).isNull();
  }

  @Test
  void aUsageErrorBeforeAKnownVerbStillListsEveryVerb() {
    CliRun r = CliRun.run(NO_ENV, "--timeout", "soon", "instances", "orders").expect(2);
    assertThat(r.err()).contains("Invalid value for option '--timeout'")
        .contains("Commands: register, deregister, isolate, restore, weight, heartbeat, instances, services, watch");
    assertThat(CliRun.run(NO_ENV, "--token", "--json", "instances", "orders").expect(2).err())
        .contains("Commands: register, deregister");
  }

  @Test
  void badServerAddressIsAUsageError() {
    assertThat(CliRun.run(NO_ENV, "services", "--server", "localhost:http").expect(2).err())
        .isEqualTo("lodestar: invalid port 'http' in server address 'localhost:http' (from --server)\n");
    assertThat(CliRun.run(Map.of("LODESTAR_SERVER", "h:0"), "services").expect(2).err())
        .contains("invalid port 0").contains("(from LODESTAR_SERVER)");
  }

  @Test
  void unreachableServerExitsThree() throws IOException {
    int port = closedPort();
    CliRun r = CliRun.run(NO_ENV, "services", "--server", "127.0.0.1:" + port).expect(3);
    assertThat(r.err()).isEqualTo("lodestar: cannot reach Lodestar at 127.0.0.1:" + port + ": connection refused\n");
    assertThat(r.out()).isEmpty();
    // the same through the environment, and for a verb that writes
    CliRun w = CliRun.run(Map.of("LODESTAR_SERVER", "127.0.0.1:" + port),
        "register", "orders", "--host", "10.0.0.1", "--port", "80").expect(3);
    assertThat(w.err()).contains("cannot reach Lodestar at 127.0.0.1:" + port + ": connection refused");
  }

  @Test
  void unknownHostExitsThree() {
    CliRun r = CliRun.run(NO_ENV, "instances", "orders", "--server", "no-such-host.invalid:8700").expect(3);
    assertThat(r.err()).startsWith("lodestar: cannot reach Lodestar at no-such-host.invalid:8700: ");
  }

  @Test
  void serverAddresses() {
    assertThat(ServerAddress.parse("127.0.0.1:8700")).isEqualTo(new ServerAddress("http", "127.0.0.1", 8700));
    assertThat(ServerAddress.parse("lodestar.internal")).isEqualTo(new ServerAddress("http", "lodestar.internal", 8700));
    assertThat(ServerAddress.parse("http://h:9000/")).isEqualTo(new ServerAddress("http", "h", 9000));
    assertThat(ServerAddress.parse("https://h")).isEqualTo(new ServerAddress("https", "h", 443));
    assertThat(ServerAddress.parse("[::1]:8701")).isEqualTo(new ServerAddress("http", "[::1]", 8701));
    assertThat(ServerAddress.parse("[::1]").base().toString()).isEqualTo("http://[::1]:8700");
    assertThatThrownBy(() -> ServerAddress.parse("::1")).hasMessageContaining("[addr]:port");
    assertThatThrownBy(() -> ServerAddress.parse("h:99999")).hasMessageContaining("invalid port 99999");
    assertThatThrownBy(() -> ServerAddress.parse("ftp://h")).hasMessageContaining("unsupported scheme");
    assertThatThrownBy(() -> ServerAddress.parse(":80")).hasMessageContaining("missing host");
  }

  @Test
  void checkSpecs() {
    RegisterCommand.CheckConverter c = new RegisterCommand.CheckConverter();
    assertThat(c.convert("tcp").toString()).isEqualTo("{\"type\":\"tcp\"}");
    assertThat(c.convert("http").toString()).isEqualTo("{\"type\":\"http\",\"path\":\"/\"}");
    assertThat(c.convert("http:/healthz").toString()).isEqualTo("{\"type\":\"http\",\"path\":\"/healthz\"}");
    assertThat(c.convert("http:ready").path("path").asText()).isEqualTo("/ready");
    assertThatThrownBy(() -> c.convert("http://h/x")).hasMessageContaining("give a path, not a URL");
  }

  @Test
  void pathSegmentsAreEncoded() {
    assertThat(LodestarApi.path("v1", "namespaces", "a b/c", "services", "x@y:z"))
        .isEqualTo("/v1/namespaces/a%20b%2Fc/services/x@y:z");
  }

  @Test
  void instanceDiffs() throws Exception {
    JsonNode a = Json.read(
        "{\"id\":\"i\",\"host\":\"h\",\"port\":1,\"weight\":100,\"health\":\"HEALTHY\",\"metadata\":{\"z\":\"1\"},\"revision\":3}");
    JsonNode b = Json.read(
        "{\"id\":\"i\",\"host\":\"h\",\"port\":2,\"weight\":50,\"health\":\"UNHEALTHY\",\"metadata\":{\"z\":\"2\"},\"revision\":4}");
    assertThat(WatchCommand.diff(a, b))
        .isEqualTo("address h:1->h:2, weight 100->50, health HEALTHY->UNHEALTHY, metadata {z=1}->{z=2}");
    assertThat(WatchCommand.diff(a, a)).isNull();
    assertThat(Table.address(Json.read("{\"host\":\"fe80::1\",\"port\":80}"))).isEqualTo("[fe80::1]:80");
  }
}
