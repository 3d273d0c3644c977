package io.lodestar.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.client.ClientStatus;
import io.lodestar.server.LodestarServer;
import io.lodestar.server.tls.TlsSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resolver's shared SDK client speaks TLS when the process names a CA file
 * ({@code lodestar.tls.ca-file}, as {@code LODESTAR_TLS_CA}), against a real TLS server.
 */
class ResolverTlsTest {
  @TempDir Path dir;

  @Test
  void theSharedClientConnectsOverTlsWithTheProcesssCaFile() {
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dir)
        .tls(TlsSettings.selfSignedCert()).build().start()) {
      System.setProperty("lodestar.tls.ca-file", dir.resolve("tls/self-signed.crt").toString());
      SharedClients.Shared shared = SharedClients.acquire("127.0.0.1:" + server.port());
      try {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
            assertThat(shared.client.status().state()).isEqualTo(ClientStatus.State.CONNECTED));
      } finally {
        SharedClients.release(shared);
        System.clearProperty("lodestar.tls.ca-file");
      }
    }
  }
}
