package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.LodestarServer;
import io.lodestar.server.tls.SelfSignedCerts;
import io.lodestar.server.tls.TlsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK over TLS against a real server with mutual TLS, using certificates generated for the
 * test: a CA issues the server's and a client's certificate. A client that trusts the CA and
 * presents its certificate registers and watches; one without the CA file, or without a
 * certificate, never connects and says why in its status.
 */
class TlsIntegrationTest {
  @TempDir
  static Path dir;
  static SelfSignedCerts.CertFiles ca;
  static SelfSignedCerts.CertFiles clientCert;
  static SelfSignedCerts.CertFiles strangerCa;
  static LodestarServer server;
  private final List<LodestarClient> clients = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    SelfSignedCerts.Authority authority = SelfSignedCerts.authority(dir.resolve("pki"), "ca", "lodestar-test-ca");
    ca = authority.files();
    SelfSignedCerts.CertFiles serverCert = authority.issue(dir.resolve("pki"), "server", List.of("localhost", "127.0.0.1"));
    clientCert = authority.issue(dir.resolve("pki"), "client", List.of("orders-client"));
    strangerCa = SelfSignedCerts.authority(dir.resolve("pki"), "stranger", "someone-else").files();
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dir.resolve("data"))
        .tls(TlsSettings.of(serverCert.cert(), serverCert.key()).withClientCa(ca.cert())).build().start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void closeClients() {
    clients.forEach(LodestarClient::close);
  }

  private LodestarClient client(ClientTls tls) {
    LodestarClient.Builder b = LodestarClient.builder().servers("127.0.0.1:" + server.port())
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500)).requestTimeout(Duration.ofSeconds(30));
    if (tls != null) {
      b.tls(tls);
    }
    LodestarClient c = b.build();
    clients.add(c);
    return c;
  }

  @Test
  void aClientWithTheCaAndACertificateRegistersAndWatches() {
    ClientTls tls = ClientTls.trusting(ca.cert()).withClientCertificate(clientCert.cert(), clientCert.key());
    LodestarClient a = client(tls);
    LodestarClient b = client(tls);
    List<ServiceEvent> events = new CopyOnWriteArrayList<>();
    b.subscribe("default", "tls-orders", events::add);
    a.register(RegistrationSpec.builder().service("tls-orders").host("10.2.0.1").port(443).ttlSeconds(60).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> events.stream()
        .anyMatch(e -> e.instances().stream().map(Instance::port).toList().contains(443)));
    assertThat(a.status().state()).isEqualTo(ClientStatus.State.CONNECTED);
  }

  @Test
  void aClientThatDoesNotTrustTheServerSaysSo() {
    LodestarClient c = client(ClientTls.trusting(strangerCa.cert())
        .withClientCertificate(clientCert.cert(), clientCert.key()));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(c.status().detail()).contains("not trusted"));
    assertThat(c.status().state()).isNotEqualTo(ClientStatus.State.CONNECTED);
    assertThat(c.status().detail()).contains(strangerCa.cert().toString()).doesNotContain("Exception");
  }

  @Test
  void mutualTlsRefusesAClientWithoutACertificate() {
    LodestarClient c = client(ClientTls.trusting(ca.cert()));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(c.status().detail()).startsWith("TLS").contains("client certificate"));
    assertThat(c.status().state()).isNotEqualTo(ClientStatus.State.CONNECTED);
  }

  @Test
  void aPlaintextClientDoesNotGetIn() {
    LodestarClient c = client(null);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(c.status().detail())
        .contains("if the server serves TLS, configure LodestarClient.Builder.tls"));
    assertThat(c.status().state()).isNotEqualTo(ClientStatus.State.CONNECTED);
  }
}
