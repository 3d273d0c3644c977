package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.storage.ClusterConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One rule for an unexpected failure while applying a logged write (a bug, not a refusal), on a
 * single node and in a cluster: the node stops taking writes, says why on /health (DOWN), keeps
 * serving reads, and never runs on past the failed entry. A restart without the fault replays the
 * entry like any other.
 */
class ApplyFailureTest {
  @TempDir Path dir;

  private static final String BOOM = "/v1/namespaces/default/services/boom/instances";
  private static final String CALM = "/v1/namespaces/default/services/calm/instances";

  /** The fault: a listener that throws while the batch that registers into "boom" is applied. */
  private static void injectFault(LodestarServer server) {
    server.stateMachine().registry().addListener(change -> {
      if (change.key().service().equals("boom")) {
        throw new IllegalStateException("injected fault");
      }
    });
  }

  private static void assertStopped(Http http) {
    Http.Response write = http.post(BOOM, "{\"id\":\"b1\",\"host\":\"10.0.0.1\",\"port\":80}");
    assertThat(write.status()).isEqualTo(503);
    assertThat(write.json().get("error").get("code").asText()).isEqualTo("unavailable");
    Http.Response health = http.get("/health");
    assertThat(health.status()).isEqualTo(503);
    assertThat(health.json().get("status").asText()).isEqualTo("DOWN");
    assertThat(health.json().get("reason").asText()).contains("log index").contains("injected fault");
    // no later write is applied on top of a state that may be half-changed
    assertThat(http.post(CALM, "{\"id\":\"c2\",\"host\":\"10.0.0.1\",\"port\":80}").status()).isEqualTo(503);
    // reads still serve the state as of the stop
    Http.Response read = http.get(CALM);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.body()).contains("\"c1\"").doesNotContain("\"c2\"");
  }

  @Test
  void singleNodeStopsWritesAndRestartsPastTheEntryOnceTheFaultIsGone() {
    Path data = dir.resolve("single");
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(data).build().start()) {
      Http http = new Http(server.port());
      assertThat(http.post(CALM, "{\"id\":\"c1\",\"host\":\"10.0.0.1\",\"port\":80}").status()).isEqualTo(201);
      injectFault(server);
      assertStopped(http);
    }
    try (LodestarServer again = LodestarServer.builder().port(0).dataDir(data).build().start()) {
      Http http = new Http(again.port());
      assertThat(http.get("/health").json().get("status").asText()).isEqualTo("UP");
      // the failed entry was logged before it was applied: replay applies it, nothing is skipped
      assertThat(http.get(BOOM).body()).contains("\"b1\"");
      assertThat(http.post(CALM, "{\"id\":\"c3\",\"host\":\"10.0.0.1\",\"port\":80}").status()).isEqualTo(201);
    }
  }

  @Test
  void clusterNodeStopsWritesRatherThanDivergeFromItsPeers() {
    int port = ServerProcess.freePortPair();
    ClusterConfig one = ClusterConfig.parse("n1", "n1=127.0.0.1:" + port, 0, false);
    try (LodestarServer server = LodestarServer.builder().port(port).dataDir(dir.resolve("n1")).cluster(one).build()
        .start()) {
      Http http = new Http(port);
      await().atMost(Duration.ofSeconds(60)).until(() -> server.raftLog().isLeaderReady());
      // the first write also warms the node's Raft client; on a loaded machine it may time out once
      await().atMost(Duration.ofSeconds(60)).until(() ->
          http.post(CALM, "{\"id\":\"c1\",\"host\":\"10.0.0.1\",\"port\":80}").status() == 201);
      injectFault(server);
      assertStopped(http);
    }
  }
}
