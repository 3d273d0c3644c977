package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A built server keeps the settings it was built with. */
class ServerSettingsTest {
  @Test
  void builderCallsAfterBuildDoNotReachTheServer(@TempDir Path dir) {
    LodestarServer.Builder b = LodestarServer.builder().port(0).dataDir(dir.resolve("built"));
    LodestarServer server = b.build();
    b.dataDir(dir.resolve("later")).port(1).bind("0.0.0.0");
    try (LodestarServer s = server.start()) {
      assertThat(s.port()).isNotEqualTo(1);
      assertThat(new Http(s.port()).get("/health").status()).isEqualTo(200); // still bound to loopback
      assertThat(Files.exists(dir.resolve("built"))).isTrue();
      assertThat(Files.exists(dir.resolve("later"))).isFalse();
    }
  }

  /** Settings a cluster member cannot run safely with are refused before anything starts, saying why. */
  @Test
  void aClusterMemberRefusesAuthWithoutASecretAndSelfSignedTls(@TempDir Path dir) {
    var cluster = io.lodestar.server.storage.ClusterConfig.parse("n1", "n1=127.0.0.1:1,n2=127.0.0.1:3", 0, false);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LodestarServer.builder().dataDir(dir).cluster(cluster)
        .auth(true).build()).hasMessageContaining("--auth in a cluster needs --cluster-secret-file");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LodestarServer.builder().dataDir(dir).cluster(cluster)
        .tls(io.lodestar.server.tls.TlsSettings.selfSignedCert()).build())
        .hasMessageContaining("--tls-self-signed makes a different certificate on each node");
  }

  /** `lodestar server` runs one event loop per core unless the operator's -D says otherwise. */
  @Test
  void theServerCommandSetsOneEventLoopPerCoreAndKeepsAnOperatorsChoice() {
    String before = System.getProperty(Main.EVENT_LOOPS);
    try {
      System.clearProperty(Main.EVENT_LOOPS);
      Main.eventLoopsPerCore();
      assertThat(System.getProperty(Main.EVENT_LOOPS))
          .isEqualTo(Integer.toString(Runtime.getRuntime().availableProcessors()));
      System.setProperty(Main.EVENT_LOOPS, "7");
      Main.eventLoopsPerCore();
      assertThat(System.getProperty(Main.EVENT_LOOPS)).isEqualTo("7");
    } finally {
      if (before == null) {
        System.clearProperty(Main.EVENT_LOOPS);
      } else {
        System.setProperty(Main.EVENT_LOOPS, before);
      }
    }
  }
}
