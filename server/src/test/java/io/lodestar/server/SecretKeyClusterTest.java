package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.storage.ClusterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One secret key per cluster: a member never invents its own, a node whose key is not its
 * cluster's refuses to start, and a read through a node without the key is a clear 503, never a 500.
 */
class SecretKeyClusterTest {
  static final String PATH = "/v1/namespaces/default/configs/app/creds.properties";
  static final String PLAIN = "db.password=hunter2";
  @TempDir Path dir;

  @Test
  void aNodeRestartedWithAnotherKeyRefusesToStart() throws Exception {
    Path data = dir.resolve("single");
    try (LodestarServer s = LodestarServer.builder().port(0).dataDir(data).build().start()) {
      assertThat(new Http(s.port()).put(PATH + "?secret=true", PLAIN).status()).isEqualTo(200);
    }
    Files.write(data.resolve("secret.key"), randomKey());
    assertThatThrownBy(() -> LodestarServer.builder().port(0).dataDir(data).build().start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("secret key")
        .hasMessageContaining("default/app/creds.properties")
        .hasMessageContaining("--cluster-secret-file");
  }

  @Test
  void oneKeyPerCluster() throws Exception {
    Path k1 = Files.write(dir.resolve("k1"), randomKey());
    Path k2 = Files.write(dir.resolve("k2"), randomKey());
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (String id : List.of("n1", "n2", "n3")) {
      ports.put(id, ServerProcess.freePortPair());
    }
    String spec = ports.entrySet().stream().map(e -> e.getKey() + "=127.0.0.1:" + e.getValue())
        .collect(Collectors.joining(","));
    // n1 and n2 share a key; n3 was started "the usual way", with none.
    Map<String, Path> keys = new LinkedHashMap<>(Map.of("n1", k1, "n2", k1));
    List<CompletableFuture<LodestarServer>> starting = new ArrayList<>();
    for (String id : ports.keySet()) {
      starting.add(CompletableFuture.supplyAsync(() -> node(id, spec, ports.get(id), keys.get(id))));
    }
    LodestarServer n1 = starting.get(0).join();
    LodestarServer n2 = starting.get(1).join();
    LodestarServer n3 = starting.get(2).join();
    try {
      Http h1 = new Http(n1.port());
      Http h2 = new Http(n2.port());
      Http h3 = new Http(n3.port());
      await().atMost(Duration.ofSeconds(60)).until(() -> h1.get(PATH.replace("creds.properties", "x")
          + "?consistent=true").status() == 404);

      // A member without the key refuses secrets and says how to give it one.
      Http.Response refused = h3.put(PATH + "?secret=true", PLAIN);
      assertThat(refused.status()).isEqualTo(409);
      assertThat(refused.json().at("/error/field").asText()).isEqualTo("secret");
      assertThat(refused.json().at("/error/message").asText()).contains("--cluster-secret-file");

      // Written through one member, read through another with the same key.
      assertThat(h1.put(PATH + "?secret=true", PLAIN).status()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(h2.get(PATH).body()).isEqualTo(PLAIN));
      // Through the member without it: a 503 that says why, not a 500.
      await().atMost(Duration.ofSeconds(30)).until(() -> h3.get(PATH).status() != 404);
      Http.Response noKey = h3.get(PATH);
      assertThat(noKey.status()).isEqualTo(503);
      assertThat(noKey.json().at("/error/field").asText()).isEqualTo("secret");

      // Restarted with a key that is not the cluster's, n3 refuses to start.
      n3.close();
      assertThatThrownBy(() -> node("n3", spec, ports.get("n3"), k2))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("secret key")
          .hasMessageContaining("--cluster-secret-file");
      // With the cluster's key it starts and reads the secret.
      n3 = node("n3", spec, ports.get("n3"), k1);
      Http again = new Http(n3.port());
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(again.get(PATH).body()).isEqualTo(PLAIN));
    } finally {
      n3.close();
      n2.close();
      n1.close();
    }
  }

  private LodestarServer node(String id, String spec, int port, Path key) {
    return LodestarServer.builder().port(port).dataDir(dir.resolve(id)).clusterSecretFile(key)
        .cluster(ClusterConfig.parse(id, spec, 0, false)).build().start();
  }

  private static byte[] randomKey() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return k;
  }
}
