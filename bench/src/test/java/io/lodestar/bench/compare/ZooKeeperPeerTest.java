package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZooKeeperPeerTest {
  private static final Duration WAIT = Duration.ofSeconds(30); // a busy 2-core CI machine

  @Test
  void registersWatchesReadsAndDropsASessionsInstances(@TempDir Path dir) throws Exception {
    try (ZooKeeperPeer peer = new ZooKeeperPeer()) {
      peer.start(dir, "256m");
      assertThat(peer.jvm()).isTrue();
      assertThat(peer.version()).contains("3.9.5").contains("Curator 5.9.0");
      assertThat(Files.readString(dir.resolve("zookeeper.log"))).contains("ZooKeeperServer");

      PeerClient app = peer.client();
      PeerClient watcher = peer.client();
      Inst a = new Inst("orders", "a", "127.0.0.1", 8001, Map.of("zone", "z1", "note", "quote \" and \\"));
      Inst b = new Inst("orders", "b", "127.0.0.1", 8002, Map.of());
      Inst c = new Inst("orders", "c", "127.0.0.1", 8003, Map.of());
      // one before the watch (the initial load) and two after it (live events)
      app.register(a);
      AtomicReference<Set<String>> seen = new AtomicReference<>(Set.of());
      try (AutoCloseable watch = watcher.watch("orders", seen::set)) {
        app.register(b);
        app.register(c);
        await().atMost(WAIT).until(() -> seen.get().equals(Set.of("a", "b", "c")));
        assertThat(watcher.read("orders")).isEqualTo(3);
        assertThat(watcher.read("no-such-service")).isZero();

        app.deregister(b);
        await().atMost(WAIT).until(() -> seen.get().equals(Set.of("a", "c")));

        app.close(); // its session ends, and its ephemeral nodes with it
        await().atMost(WAIT).until(() -> watcher.read("orders") == 0);
        await().atMost(WAIT).until(() -> seen.get().isEmpty());
      }
      assertThat(Proc.liveHeapBytes(peer.pid())).isPositive();
    }
  }
}
