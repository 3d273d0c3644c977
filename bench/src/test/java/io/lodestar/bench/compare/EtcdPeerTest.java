package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdPeerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path workDir;

  @Test
  void registersWatchesReadsAndRevokesOnClose() throws Exception {
    assumeTrue(EtcdPeer.installed(), "etcd is not on PATH (Debian: apt-get install etcd-server)");
    try (EtcdPeer peer = new EtcdPeer()) {
      peer.start(workDir, "1g");
      assertThat(peer.version()).matches("etcd 3\\.\\S+, jetcd \\S+").doesNotContain("unknown");
      assertThat(peer.pid()).isPositive();

      PeerClient app = peer.client();
      PeerClient observer = peer.client();
      Inst first = inst("a");
      Inst second = inst("b");
      Inst third = inst("c");
      // One before the watch starts (seen through its initial get), two after (seen as events).
      app.register(first);
      AtomicReference<Set<String>> seen = new AtomicReference<>(Set.of());
      try (AutoCloseable watch = observer.watch("orders", seen::set)) {
        app.register(second);
        app.register(third);
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactlyInAnyOrder("a", "b", "c"));
        assertThat(observer.read("orders")).isEqualTo(3);
        assertThat(observer.read("order")).isZero();

        app.deregister(second);
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).containsExactlyInAnyOrder("a", "c"));

        app.close();
        await().atMost(WAIT).untilAsserted(() -> assertThat(observer.read("orders")).isZero());
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen.get()).isEmpty());
      }
    }
  }

  private static Inst inst(String id) {
    return new Inst("orders", id, "127.0.0.1", 8080, Map.of("zone", "z1", "note", "say \"hi\"\\"));
  }
}
