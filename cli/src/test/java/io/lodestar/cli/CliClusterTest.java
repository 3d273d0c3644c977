package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.LodestarServer;
import io.lodestar.server.storage.ClusterConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster verbs against three in-process nodes, and against a single node. */
class CliClusterTest {
  @TempDir static Path dir;
  static final List<LodestarServer> nodes = new ArrayList<>();
  static final List<Integer> ports = new ArrayList<>();

  private static int freePortPair() throws IOException {
    while (true) {
      int p;
      try (ServerSocket s = new ServerSocket(0)) {
        p = s.getLocalPort();
      }
      try (ServerSocket raft = new ServerSocket(p + 1)) {
        return p;
      } catch (IOException e) {
        // taken: try another
      }
    }
  }

  @BeforeAll
  static void start() throws IOException {
    for (int k = 0; k < 3; k++) {
      ports.add(freePortPair());
    }
    String spec = "n1=127.0.0.1:" + ports.get(0) + ",n2=127.0.0.1:" + ports.get(1) + ",n3=127.0.0.1:" + ports.get(2);
    for (int k = 0; k < 3; k++) {
      nodes.add(LodestarServer.builder().bind("127.0.0.1").port(ports.get(k)).dataDir(dir.resolve("n" + (k + 1)))
          .cluster(ClusterConfig.parse("n" + (k + 1), spec, 0, false)).build().start());
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().anyMatch(n -> n.raftLog().isLeaderReady()));
  }

  @AfterAll
  static void stop() {
    nodes.forEach(LodestarServer::close);
  }

  static CliRun cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--server");
    all.add("127.0.0.1:" + ports.get(1));
    return CliRun.run(Map.of(), all.toArray(String[]::new));
  }

  @Test
  void statusShowsEveryMemberAndOneLeader() throws Exception {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonNode c = Json.read(cli("cluster", "status", "--json").expect(0).out());
      assertThat(c.get("members")).hasSize(3);
      assertThat(c.get("leader").asText()).isIn("n1", "n2", "n3");
    });
    String table = cli("cluster").expect(0).out();
    // every member runs this version: the leader raises the state to the level they all agree to
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(cli("cluster").expect(0).out())
        .contains("feature level: " + io.lodestar.core.StateMachine.FEATURE_LEVEL + "\n"));
    assertThat(table).contains("leader: n").contains("ID").contains("LAST APPLIED").contains("LEVEL")
        .contains("127.0.0.1:" + ports.get(0)).contains("127.0.0.1:" + ports.get(2));
  }

  @Test
  void backupAndRestoreRoundTrip() throws Exception {
    cli("namespaces", "create", "kept").expect(0);
    String out = cli("cluster", "backup").expect(0).out();
    assertThat(out).startsWith("backup at index ");
    String name = Path.of(out.substring(out.indexOf(": ") + 2).trim()).getFileName().toString();
    cli("namespaces", "create", "dropped").expect(0);
    assertThat(cli("cluster", "restore", name).expect(0).out()).startsWith("restored " + name)
        .containsPattern("instances \\(a log entry of [1-9][0-9]* bytes\\)\n$");
    String namespaces = cli("namespaces").expect(0).out();
    assertThat(namespaces).contains("kept").doesNotContain("dropped");
    assertThat(cli("cluster", "restore", "no-such-backup.bin").expect(1).err()).contains("no backup");
  }

  @Test
  void addingTwiceAndRemovingAStrangerAreRefused() {
    assertThat(cli("cluster", "add", "n1=127.0.0.1:" + ports.get(0)).expect(1).err()).contains("already a member");
    assertThat(cli("cluster", "remove", "n9").expect(1).err()).contains("not a member");
    cli("cluster", "add", "nonsense").expect(2);
  }

  @Test
  void tokensAndTheAuditTrailReplicateToEveryNode() throws Exception {
    String secret = Json.read(cli("token", "create", "replicated", "--policy", "admin", "--json")
        .expect(0).out()).path("secret").asText();
    List<String> runOn3 = new ArrayList<>(List.of("--token", secret, "namespaces", "create", "audited",
        "--server", "127.0.0.1:" + ports.get(2)));
    CliRun.run(Map.of(), runOn3.toArray(String[]::new)).expect(0);
    // every replica holds the token (only its digest) and the same audit entries, in the same order
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      for (LodestarServer n : nodes) {
        assertThat(n.stateMachine().tokens().get("replicated")).isNotNull();
        assertThat(n.stateMachine().audit().query(0, "audited", 10)).singleElement()
            .satisfies(e -> assertThat(e.getActor() + " " + e.getAction()).isEqualTo("replicated create_namespace"));
      }
      assertThat(nodes.get(0).stateMachine().audit().snapshot()).isEqualTo(nodes.get(2).stateMachine().audit().snapshot());
    });
  }
}
