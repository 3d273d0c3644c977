package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.LodestarServer;
import io.lodestar.server.storage.ClusterConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An SDK given one node of a cluster learns the others from Welcome and fails over to them. */
class ClusterFailoverTest {
  @TempDir Path dir;

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

  @Test
  void learnsTheMembersFromOneSeedAndFailsOverWithItsInstances() throws Exception {
    List<Integer> ports = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      ports.add(freePortPair());
    }
    String spec = "n1=127.0.0.1:" + ports.get(0) + ",n2=127.0.0.1:" + ports.get(1) + ",n3=127.0.0.1:" + ports.get(2);
    List<LodestarServer> nodes = new ArrayList<>();
    try {
      for (int k = 0; k < 3; k++) {
        nodes.add(LodestarServer.builder().bind("127.0.0.1").port(ports.get(k)).dataDir(dir.resolve("n" + (k + 1)))
            .cluster(ClusterConfig.parse("n" + (k + 1), spec, 0, false)).build().start());
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().anyMatch(n -> n.raftLog().isLeaderReady()));
      try (LodestarClient client = LodestarClient.builder().servers("127.0.0.1:" + ports.get(0))
          .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build()) {
        Instance registered = client.register(RegistrationSpec.builder().service("pay").host("10.0.0.7").port(8080)
            .ttlSeconds(10).build());
        assertThat(registered.leaseHolder()).isEqualTo("n1");
        await().atMost(Duration.ofSeconds(30)).until(() -> client.status().isConnected());

        nodes.get(0).close(); // the only node the client was given
        await().atMost(Duration.ofSeconds(60)).until(() -> client.status().isConnected()
            && !client.status().server().endsWith(":" + ports.get(0)));

        // re-asserted on the node it moved to, which now holds the lease; never expired meanwhile
        LodestarServer n2 = nodes.get(1);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
          ServiceView v = n2.stateMachine().registry().view("default", "pay");
          assertThat(v).isNotNull();
          assertThat(v.instances()).singleElement().satisfies(i -> {
            assertThat(i.getHealth()).isEqualTo(io.lodestar.api.v1.HealthStatus.HEALTHY);
            assertThat(i.getLeaseHolder()).isIn("n2", "n3");
          });
        });
      }
    } finally {
      for (LodestarServer n : nodes) {
        n.close();
      }
    }
  }
}
