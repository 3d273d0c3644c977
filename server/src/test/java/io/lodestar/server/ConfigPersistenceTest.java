package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configs, their history, gray state and secrets survive kill -9. */
class ConfigPersistenceTest {
  @TempDir Path dir;

  @Test
  void configsSurviveKillMinus9() throws Exception {
    Path data = dir.resolve("node");
    int port = ServerProcess.freePort();
    String base = "/v1/namespaces/default/configs/app/";
    try (ServerProcess node = new ServerProcess(port, data, "--snapshot-every", "5").start()) {
      Http http = new Http(port);
      for (int i = 1; i <= 8; i++) {  // crosses a snapshot
        assertThat(http.put(base + "a.properties", "n=" + i).status()).isEqualTo(200);
      }
      assertThat(http.put(base + "s.txt?secret=true", "hidden").status()).isEqualTo(200);
      assertThat(http.put(base + "a.properties/gray?percent=50", "n=gray").status()).isEqualTo(200);
      node.kill();

      node.start();
      assertThat(http.get(base + "a.properties").body()).isEqualTo("n=8");
      assertThat(http.get(base + "a.properties?version=3").body()).isEqualTo("n=3");
      assertThat(http.get(base + "a.properties/gray").json().get("candidateVersion").asLong()).isEqualTo(9);
      assertThat(http.get(base + "s.txt").body()).isEqualTo("hidden");
      // Versions continue from where they were.
      assertThat(http.post(base + "a.properties/gray/abort", "").json().get("version").asLong()).isEqualTo(10);
    }
  }
}
