package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs against a real Eureka server, only where its jar has been built (CI does not build Spring:
 * {@code mvn -B -q -f bench/peers/eureka-server/pom.xml -DskipTests package}).
 */
class EurekaPeerTest {
  /** Eureka serves reads from a response cache refreshed every 30 s, so views lag by up to that. */
  private static final Duration CACHE_LAG = Duration.ofSeconds(90);

  /** Surefire runs in bench/, so lodestar.home (the checkout, as ./lodestar passes it) is its parent. */
  @BeforeAll
  static void home() {
    if (System.getProperty("lodestar.home") == null) {
      Path dir = Path.of("").toAbsolutePath();
      while (dir != null && !Files.exists(dir.resolve("bench/peers/eureka-server/pom.xml"))) {
        dir = dir.getParent();
      }
      if (dir != null) {
        System.setProperty("lodestar.home", dir.toString());
      }
    }
  }

  @Test
  void registersWatchesReadsAndDeregisters(@TempDir Path work) throws Exception {
    Assumptions.assumeTrue(Files.exists(EurekaPeer.jar()),
        "no " + EurekaPeer.jar() + "; build it to run this test");
    try (EurekaPeer peer = new EurekaPeer()) {
      peer.start(work, "256m");
      assertThat(peer.version()).contains("Eureka ");
      assertThat(peer.jvm()).isTrue();
      assertThat(peer.pid()).isPositive();

      try (PeerClient owner = peer.client(); EurekaPeerClient watcher = peer.client(Duration.ofSeconds(1))) {
        AtomicReference<Set<String>> seen = new AtomicReference<>(Set.of());
        try (AutoCloseable watch = watcher.watch("svc-a", seen::set)) {
          Inst a = new Inst("svc-a", "a-1", "127.0.0.1", 9001, Map.of("zone", "z1"));
          Inst b = new Inst("svc-a", "a-2", "127.0.0.1", 9002, Map.of());
          Inst c = new Inst("svc-a", "a-3", "127.0.0.1", 9003, Map.of("quote\"d", "back\\slash"));
          owner.register(a);
          owner.register(b);
          owner.register(c);

          await().atMost(CACHE_LAG).untilAsserted(() -> assertThat(seen.get()).containsExactlyInAnyOrder("a-1", "a-2", "a-3"));
          await().atMost(CACHE_LAG).untilAsserted(() -> assertThat(watcher.read("svc-a")).isEqualTo(3));

          owner.deregister(b);
          await().atMost(CACHE_LAG).untilAsserted(() -> assertThat(seen.get()).containsExactlyInAnyOrder("a-1", "a-3"));
          await().atMost(CACHE_LAG).untilAsserted(() -> assertThat(owner.read("svc-a")).isEqualTo(2));
        }
      }
    }
  }

  @Test
  void parsesOneInstanceAsObjectOrArray() {
    String one = "{\"instanceId\":\"x\",\"metadata\":{\"instanceId\":\"not me\"}}";
    assertThat(EurekaJson.instanceIds("{\"application\":{\"name\":\"A\",\"instance\":" + one + "}}")).containsExactly("x");
    assertThat(EurekaJson.instanceIds("{\"application\":{\"name\":\"A\",\"instance\":[" + one + "]}}")).containsExactly("x");
    assertThat(EurekaJson.instanceIds("{\"application\":{\"name\":\"A\",\"instance\":[]}}")).isEmpty();
    assertThat(EurekaJson.instanceIds("")).isEmpty();
  }
}
