package io.lodestar.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.server.LodestarServer;
import io.lodestar.server.tls.TlsSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The starter's {@code lodestar.tls.*} against a real TLS server (self-signed, as for
 * development): the client it builds registers over TLS, and the service catalog lists over https.
 */
class StarterTlsTest {
  @TempDir Path dir;

  @Test
  void theStartersClientAndCatalogSpeakTls() {
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dir)
        .tls(TlsSettings.selfSignedCert()).build().start()) {
      LodestarProperties p = new LodestarProperties();
      p.setServer("127.0.0.1:" + server.port());
      p.setRequestTimeout(Duration.ofSeconds(30));
      p.getTls().setCaFile(dir.resolve("tls/self-signed.crt").toString());
      try (LodestarClient client = LodestarClients.create(p)) {
        client.register(RegistrationSpec.builder().service("tls-spring").host("10.4.0.1").port(8443).build());
        ServiceCatalog catalog = new ServiceCatalog(p.serverList(), p.clientTls());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(catalog.services("default")).contains("tls-spring"));
      }
    }
  }
}
