package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lodestar.server.storage.ClusterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Parsing --cluster and the config file; no processes. */
class ClusterConfigTest {
  @TempDir Path dir;

  @Test
  void raftPortIsClientPortPlusOneUnlessGiven() {
    ClusterConfig c = ClusterConfig.parse("n2", "n1=10.0.0.1:8700, n2=10.0.0.2:8710/8799,n3=10.0.0.3:8720", 0, false);
    assertThat(c.members()).extracting(ClusterConfig.Member::raftAddress)
        .containsExactly("10.0.0.1:8701", "10.0.0.2:8799", "10.0.0.3:8721");
    assertThat(c.self().clientAddress()).isEqualTo("10.0.0.2:8710");
    assertThat(ClusterConfig.parse("n1", "n1=10.0.0.1:8700", 9000, false).self().raftPort()).isEqualTo(9000);
  }

  @Test
  void mistakesAreNamed() {
    assertThatThrownBy(() -> ClusterConfig.parse("n4", "n1=h:1,n2=h:2", 0, false)).hasMessageContaining("n4");
    assertThatThrownBy(() -> ClusterConfig.parse("n1", "n1=h:1,n1=h:2", 0, false)).hasMessageContaining("twice");
    assertThatThrownBy(() -> ClusterConfig.parse("n1", "n1=h", 0, false)).hasMessageContaining("id=host:port");
    assertThatThrownBy(() -> ClusterConfig.parse("n1", "n1=h:99999", 0, false)).hasMessageContaining("bad port");
    assertThatThrownBy(() -> ClusterConfig.parse(null, "n1=h:1", 0, false)).hasMessageContaining("--node-id");
  }

  @Test
  void theConfigFileCarriesTheSameSettingsAndTheCommandLineWins() throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "node-id=n1\ncluster=n1=127.0.0.1:8700,n2=127.0.0.1:8710\nraft-port=8705\nport=8700\n"
        + "data-dir=/var/lib/lodestar\n");
    Main m = new Main();
    new CommandLine(m).parseArgs("--config", file.toString(), "--node-id", "n2", "--port", "8710");
    m.applyConfigFile();
    assertThat(m.nodeId).isEqualTo("n2");
    assertThat(m.cluster).isEqualTo("n1=127.0.0.1:8700,n2=127.0.0.1:8710");
    assertThat(m.raftPort).isEqualTo(8705);
    assertThat(m.port).isEqualTo(8710);
    assertThat(m.dataDir).isEqualTo(Path.of("/var/lib/lodestar"));
  }
}
