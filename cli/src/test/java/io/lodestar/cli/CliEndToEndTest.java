package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.LodestarServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every verb against a real server started in-process on a free port. */
class CliEndToEndTest {
  @TempDir static Path dataDir;
  static LodestarServer server;
  static String address;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dataDir).build().start();
    address = "127.0.0.1:" + server.port();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** Runs a verb against the test server (via --server). */
  static CliRun cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--server");
    all.add(address);
    return CliRun.run(Map.of(), all.toArray(String[]::new));
  }

  static String uniqueService() {
    return "svc-" + SEQ.incrementAndGet();
  }

  static JsonNode json(CliRun r) throws Exception {
    return Json.read(r.out());
  }

  @Test
  void registerPrintsTheIdAndInstancesListsIt() {
    String svc = uniqueService();
    CliRun reg = cli("register", svc, "--host", "10.0.0.1", "--port", "8080", "--meta", "zone=eu-1",
        "--meta", "version=1.4", "--weight", "30", "--protocol", "grpc", "--persistent").expect(0);
    assertThat(reg.out()).isEqualTo("10.0.0.1:8080\n");  // the server's default id is host:port
    cli("register", svc, "--host", "10.0.0.2", "--port", "8080", "--id", "b", "--persistent").expect(0);

    CliRun list = cli("instances", svc).expect(0);
    String[] lines = list.out().split("\n");
    assertThat(lines[0]).matches("ID\\s+ADDRESS\\s+PROTOCOL\\s+WEIGHT\\s+HEALTH\\s+KIND\\s+METADATA");
    assertThat(list.out()).containsPattern("10\\.0\\.0\\.1:8080\\s+10\\.0\\.0\\.1:8080\\s+grpc\\s+30\\s+HEALTHY\\s+persistent\\s+version=1\\.4,zone=eu-1")
        .containsPattern("\\nb\\s+10\\.0\\.0\\.2:8080\\s+-\\s+100\\s+HEALTHY\\s+persistent\\s+-")
        .contains("2 instances of default/" + svc + " (2 healthy), revision ");
    assertThat(list.out()).doesNotContain("protection applied");
  }

  @Test
  void jsonOutputIsTheServersJson() throws Exception {
    String svc = uniqueService();
    JsonNode registered = json(cli("register", svc, "--host", "10.0.0.3", "--port", "9000", "--id", "i-1",
        "--ttl", "30", "-m", "a=b", "--json").expect(0));
    assertThat(registered.path("id").asText()).isEqualTo("i-1");
    assertThat(registered.path("service").asText()).isEqualTo(svc);
    assertThat(registered.path("namespace").asText()).isEqualTo("default");
    assertThat(registered.path("ephemeral").asBoolean()).isTrue();
    assertThat(registered.path("ttlSeconds").asInt()).isEqualTo(30);
    assertThat(registered.path("metadata").path("a").asText()).isEqualTo("b");
    assertThat(registered.path("health").asText()).isEqualTo("HEALTHY");

    JsonNode listed = json(cli("instances", svc, "--json").expect(0));
    assertThat(listed.path("revision").asLong()).isEqualTo(registered.path("revision").asLong());
    assertThat(listed.path("protectionApplied").asBoolean()).isFalse();
    assertThat(listed.path("instances")).hasSize(1);
    assertThat(listed.path("instances").get(0).path("id").asText()).isEqualTo("i-1");

    JsonNode services = json(cli("services", "--json").expect(0));
    assertThat(services.path("services").findValuesAsText("name")).contains(svc);

    JsonNode namespaces = json(cli("namespaces", "--json").expect(0));
    assertThat(namespaces.path("namespaces").findValuesAsText("name")).contains("default");

    assertThat(json(cli("heartbeat", svc, "i-1", "--json").expect(0)).path("ok").asBoolean()).isTrue();
    assertThat(json(cli("deregister", svc, "i-1", "--json").expect(0)).path("deregistered").asText()).isEqualTo("i-1");
  }

  @Test
  void deregisterRemovesTheInstance() {
    String svc = uniqueService();
    cli("register", svc, "--host", "10.0.0.4", "--port", "80", "--id", "gone-soon").expect(0);
    assertThat(cli("deregister", svc, "gone-soon").expect(0).out())
        .isEqualTo("deregistered gone-soon from default/" + svc + "\n");
    assertThat(cli("instances", svc).expect(0).out()).startsWith("no instances of default/" + svc);
  }

  @Test
  void isolateRestoreAndWeight() throws Exception {
    String svc = uniqueService();
    cli("register", svc, "--host", "10.0.0.5", "--port", "80", "--id", "iso-1").expect(0);
    assertThat(cli("isolate", svc, "iso-1").expect(0).out())
        .isEqualTo("isolated iso-1 of default/" + svc + " (still registered; restore to undo)\n");
    assertThat(cli("instances", svc).expect(0).out()).containsPattern("iso-1\\s+10\\.0\\.0\\.5:80\\s+\\S+\\s+100\\s+HEALTHY/isolated");
    assertThat(json(cli("weight", svc, "iso-1", "40", "--json").expect(0)).path("isolated").asBoolean()).isTrue();
    assertThat(cli("restore", svc, "iso-1").expect(0).out()).isEqualTo("restored iso-1 of default/" + svc
        + " to discovery\n");
    CliRun bad = cli("weight", svc, "iso-1", "20000").expect(1);
    assertThat(bad.err()).startsWith("lodestar: ").contains("weight");
  }

  @Test
  void anOperatorsWeightHoldsOverReRegistrationUntilRestored() {
    String svc = uniqueService();
    cli("register", svc, "--host", "10.0.0.6", "--port", "80", "--id", "w-1", "--weight", "30").expect(0);
    assertThat(cli("weight", svc, "w-1", "0").expect(0).out())
        .isEqualTo("weight of w-1 of default/" + svc + " is 0 (the operator's; it registered 30)\n");
    cli("register", svc, "--host", "10.0.0.6", "--port", "80", "--id", "w-1", "--weight", "30").expect(0);
    assertThat(cli("instances", svc).expect(0).out()).containsPattern("w-1\\s+10\\.0\\.0\\.6:80\\s+\\S+\\s+0/operator\\s");
    assertThat(cli("weight", svc, "w-1", "--restore").expect(0).out())
        .isEqualTo("weight of w-1 of default/" + svc + " is 30 (its own)\n");
    assertThat(cli("weight", svc, "w-1").expect(2).err()).contains("missing WEIGHT (or --restore)");
    assertThat(cli("weight", svc, "w-1", "5", "--restore").expect(2).err()).contains("not both");
  }

  @Test
  void heartbeatOfAnUnknownInstanceExitsOne() {
    String svc = uniqueService();
    CliRun r = cli("heartbeat", svc, "nope").expect(1);
    assertThat(r.err()).isEqualTo("lodestar: instance nope of default/" + svc + " is not registered\n");
  }

  @Test
  void servicesListsCounts() {
    String ns = "svcs-" + SEQ.incrementAndGet();
    cli("namespaces", "create", ns).expect(0);
    assertThat(cli("services", "-n", ns).expect(0).out()).isEqualTo("no services in namespace " + ns + "\n");
    cli("register", "alpha", "-n", ns, "--host", "10.0.1.1", "--port", "1", "--persistent").expect(0);
    cli("register", "alpha", "-n", ns, "--host", "10.0.1.2", "--port", "1", "--persistent").expect(0);
    cli("register", "beta", "-n", ns, "--host", "10.0.1.3", "--port", "1", "--persistent").expect(0);
    CliRun r = cli("services", "--namespace", ns).expect(0);
    assertThat(r.out().split("\n")).hasSize(3);
    assertThat(r.out()).containsPattern("SERVICE\\s+INSTANCES\\s+HEALTHY\\s+REVISION\\s+METADATA")
        .containsPattern("\\nalpha\\s+2\\s+2\\s+\\d+\\s+-")
        .containsPattern("\\nbeta\\s+1\\s+1\\s+\\d+\\s+-");
  }

  @Test
  void namespacesCreateShowListDelete() {
    String ns = "team-" + SEQ.incrementAndGet();
    assertThat(cli("namespaces", "create", ns, "--description", "the payments team").expect(0).out())
        .isEqualTo("created namespace " + ns + "\n");
    assertThat(cli("namespaces").expect(0).out()).containsPattern("\\n" + ns + "\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+the payments team");
    assertThat(cli("namespaces", "list").expect(0).out()).contains(ns);
    assertThat(cli("namespaces", "show", ns).expect(0).out()).contains("description: the payments team");

    // not empty: the server refuses with 409
    cli("register", "x", "-n", ns, "--host", "10.0.2.1", "--port", "1", "--id", "x1").expect(0);
    CliRun refused = cli("namespaces", "delete", ns).expect(1);
    assertThat(refused.err()).startsWith("lodestar: ").hasLineCount(1);
    cli("deregister", "x", "x1", "-n", ns).expect(0);

    CliRun deleted = cli("namespaces", "delete", ns);
    if (deleted.code != 0) {
      // an emptied service may still exist; that is the server's rule to make
      assertThat(deleted.err()).startsWith("lodestar: ").hasLineCount(1);
    } else {
      assertThat(deleted.out()).isEqualTo("deleted namespace " + ns + "\n");
      assertThat(cli("namespaces").expect(0).out()).doesNotContain(ns);
    }
  }

  @Test
  void unknownNamespaceIsAServerError() {
    CliRun r = cli("services", "-n", "no-such-ns").expect(1);
    assertThat(r.err()).isEqualTo("lodestar: namespace no-such-ns does not exist\n");
  }

  @Test
  void badRequestShowsTheServersMessageAndField() {
    String svc = uniqueService();
    CliRun weight = cli("register", svc, "--host", "10.0.0.5", "--port", "80", "--weight", "20000").expect(1);
    assertThat(weight.err()).isEqualTo("lodestar: weight must be within 0–10000, got 20000 (field: weight)\n");
    assertThat(weight.out()).isEmpty();

    CliRun port = cli("register", svc, "--host", "10.0.0.5", "--port", "70000").expect(1);
    assertThat(port.err()).contains("(field: port)").hasLineCount(1);

    CliRun name = cli("instances", "bad name!").expect(1);
    assertThat(name.err()).contains("has illegal characters").contains("(field: service)");
  }

  @Test
  void serverAddressFromTheEnvironment() {
    CliRun r = CliRun.run(Map.of("LODESTAR_SERVER", address), "namespaces").expect(0);
    assertThat(r.out()).contains("default");
  }

  @Test
  void globalOptionsBeforeTheVerbWorkToo() throws Exception {
    CliRun r = CliRun.run(Map.of(), "--server", address, "--json", "namespaces").expect(0);
    assertThat(json(r).path("namespaces").isArray()).isTrue();
  }

  @Test
  void watchSeesARegistrationMadeDuringTheWatch() throws Exception {
    String svc = uniqueService();
    cli("register", svc, "--host", "10.0.3.1", "--port", "80", "--id", "first", "--persistent").expect(0);
    CliRun watch = new CliRun();
    Thread t = new Thread(() -> watch.exec(Map.of(), "watch", svc, "--count", "1", "--server", address));
    t.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().contains("watching default/" + svc));
    assertThat(watch.out()).contains("(1 instance, 1 healthy)").contains("  first  10.0.3.1:80  weight=100  HEALTHY");

    cli("register", svc, "--host", "10.0.3.2", "--port", "80", "--id", "second", "--meta", "zone=b").expect(0);
    t.join(Duration.ofSeconds(10).toMillis());
    assertThat(t.isAlive()).isFalse();
    watch.expect(0);
    assertThat(watch.out()).containsPattern("\\[revision \\d+\\] \\+ second  10\\.0\\.3\\.2:80  weight=100  HEALTHY  zone=b\\n$");
  }

  @Test
  void watchPrintsRemovalsAndChangesAndJsonLines() throws Exception {
    String svc = uniqueService();
    cli("register", svc, "--host", "10.0.4.1", "--port", "80", "--id", "a", "--persistent").expect(0);
    cli("register", svc, "--host", "10.0.4.2", "--port", "80", "--id", "b", "--persistent").expect(0);
    CliRun watch = new CliRun();
    Thread t = new Thread(() -> watch.exec(Map.of(), "watch", svc, "--count", "2", "--json", "--server", address));
    t.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().contains("\n"));

    cli("register", svc, "--host", "10.0.4.1", "--port", "80", "--id", "a", "--weight", "5", "--persistent").expect(0);
    await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().split("\n").length >= 2);
    cli("deregister", svc, "b").expect(0);
    t.join(Duration.ofSeconds(10).toMillis());
    assertThat(t.isAlive()).isFalse();
    watch.expect(0);

    String[] lines = watch.out().split("\n");
    assertThat(lines).hasSize(3);
    JsonNode initial = Json.read(lines[0]);
    JsonNode changed = Json.read(lines[1]);
    JsonNode removed = Json.read(lines[2]);
    assertThat(initial.path("instances")).hasSize(2);
    assertThat(changed.path("revision").asLong()).isGreaterThan(initial.path("revision").asLong());
    assertThat(changed.path("instances").findValuesAsText("weight")).contains("5");
    assertThat(removed.path("instances").findValuesAsText("id")).containsExactly("a");
  }

  @Test
  void watchTextShowsChangesAndRemovals() {
    String svc = uniqueService();
    cli("register", svc, "--host", "10.0.5.1", "--port", "80", "--id", "a", "--persistent").expect(0);
    CliRun watch = new CliRun();
    Thread t = new Thread(() -> watch.exec(Map.of(), "watch", svc, "-c", "2", "--server", address));
    t.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().contains("watching"));
    cli("register", svc, "--host", "10.0.5.1", "--port", "80", "--id", "a", "--weight", "7", "--persistent").expect(0);
    await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().contains("~ a"));
    cli("deregister", svc, "a").expect(0);
    await().atMost(Duration.ofSeconds(30)).until(() -> !t.isAlive());
    watch.expect(0);
    assertThat(watch.out()).containsPattern("\\[revision \\d+\\] ~ a  10\\.0\\.5\\.1:80  weight 100->7")
        .containsPattern("\\[revision \\d+\\] - a  10\\.0\\.5\\.1:80\\n$");
  }

  @Test
  void protectionIsReportedWhenTooManyInstancesAreUnhealthy() throws Exception {
    String svc = uniqueService();
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    for (String id : List.of("p1", "p2")) {
      cli("register", svc, "--host", "127.0.0.1", "--port", Integer.toString(closed), "--id", id, "--persistent",
          "--check", "tcp", "--check-interval", "1", "--check-timeout", "1").expect(0);
    }
    await().atMost(Duration.ofSeconds(20)).until(() ->
        json(cli("instances", svc, "--json").expect(0)).path("instances").findValuesAsText("health").stream()
            .allMatch("UNHEALTHY"::equals));
    CliRun r = cli("instances", svc, "--healthy").expect(0);
    assertThat(r.out()).startsWith("protection applied:")
        .containsPattern("\\np1\\s+127\\.0\\.0\\.1:\\d+\\s+-\\s+100\\s+UNHEALTHY\\s+persistent/tcp")
        .contains("2 instances of default/" + svc + " (0 healthy)");
    assertThat(json(cli("instances", svc, "--healthy", "--json").expect(0)).path("protectionApplied").asBoolean())
        .isTrue();
  }

  @Test
  void keepaliveHeartbeatsUntilInterruptedThenDeregisters() throws Exception {
    String svc = uniqueService();
    CliRun keep = new CliRun();
    Thread t = new Thread(() -> keep.exec(Map.of(), "register", svc, "--host", "10.0.6.1", "--port", "80",
        "--id", "kept", "--ttl", "2", "--keepalive", "--server", address));
    t.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> keep.out().equals("kept\n"));
    // stderr and stdout are separate streams: wait for the line rather than race it
    await().atMost(Duration.ofSeconds(30)).until(() -> keep.err().contains("keeping kept alive in default/" + svc
        + " (heartbeat every 1s)"));
    // well past the 2 s TTL, the instance stays healthy
    await().during(Duration.ofMillis(3500)).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
        .until(() -> cli("instances", svc).expect(0).out().contains("HEALTHY  ephemeral"));
    assertThat(keep.out()).isEqualTo("kept\n");  // nothing per beat

    t.interrupt();
    t.join(Duration.ofSeconds(10).toMillis());
    assertThat(t.isAlive()).isFalse();
    keep.expect(0);
    assertThat(keep.err()).contains("deregistered kept from default/" + svc);
    assertThat(cli("instances", svc).expect(0).out()).startsWith("no instances");
  }

  @Test
  void watchRidesOutAServerRestart(@TempDir Path ownData) throws Exception {
    LodestarServer own = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(ownData).build().start();
    int port = own.port();
    String at = "127.0.0.1:" + port;
    CliRun watch = new CliRun();
    Thread t = new Thread(() -> watch.exec(Map.of(), "watch", "phoenix", "--count", "1", "--server", at));
    t.start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> watch.out().contains("watching default/phoenix"));
      own.close();
      await().atMost(Duration.ofSeconds(30)).until(() -> watch.err().contains("; retrying"));
      own = LodestarServer.builder().bind("127.0.0.1").port(port).dataDir(ownData).build().start();
      CliRun.run(Map.of(), "register", "phoenix", "--host", "10.0.7.1", "--port", "80", "--server", at).expect(0);
      t.join(Duration.ofSeconds(15).toMillis());
      assertThat(t.isAlive()).isFalse();
      watch.expect(0);
      assertThat(watch.out()).containsPattern("\\[revision \\d+\\] \\+ 10\\.0\\.7\\.1:80  weight=100  HEALTHY\\n$");
      assertThat(watch.err()).contains("back in contact with " + at);
    } finally {
      t.interrupt();
      own.close();
    }
  }

  @Test
  void clusterVerbsOnASingleNode() {
    assertThat(cli("cluster").expect(0).out()).contains("leader: " + address).contains(address);
    assertThat(cli("cluster", "add", "n4=127.0.0.1:9").expect(1).err()).contains("single node");
  }
}
