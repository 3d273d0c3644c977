package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.server.LodestarServer;
import io.lodestar.server.tls.SelfSignedCerts;
import io.lodestar.server.tls.TlsSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against a real server started with {@code --tls-self-signed} and mutual TLS: with the
 * server's certificate as its CA file and a client certificate it works (PATCH included, which
 * takes another HTTP client); without either, or in plaintext, it exits 3 with one line that
 * names the option to fix it. The console's own loopback writes work under mutual TLS too.
 */
class CliTlsTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static String address;
  static Path serverCert;
  static SelfSignedCerts.CertFiles client;

  @BeforeAll
  static void start() {
    SelfSignedCerts.Authority clients = SelfSignedCerts.authority(dir.resolve("pki"), "clients-ca", "clients");
    client = clients.issue(dir.resolve("pki"), "cli", List.of("operator"));
    server = LodestarServer.builder().bind("127.0.0.1").port(0).dataDir(dir.resolve("data"))
        .tls(TlsSettings.selfSignedCert().withClientCa(clients.files().cert())).build().start();
    address = "127.0.0.1:" + server.port();
    serverCert = dir.resolve("data/tls/self-signed.crt");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static CliRun cli(Map<String, String> env, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--server");
    all.add(address);
    return CliRun.run(env, all.toArray(String[]::new));
  }

  private static String[] withTls(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--tls-ca", serverCert.toString(), "--tls-cert", client.cert().toString(),
        "--tls-key", client.key().toString()));
    return all.toArray(String[]::new);
  }

  @Test
  void withTheCaFileAndAClientCertificateEveryVerbWorks() {
    cli(Map.of(), withTls("register", "tls-cli", "--host", "10.3.0.1", "--port", "8443")).expect(0);
    CliRun list = cli(Map.of(), withTls("instances", "tls-cli", "--json")).expect(0);
    assertThat(list.out()).contains("10.3.0.1");
    cli(Map.of(), withTls("weight", "tls-cli", "10.3.0.1:8443", "7")).expect(0);  // PATCH: java.net.http
    assertThat(cli(Map.of(), withTls("instances", "tls-cli", "--json")).expect(0).out()).contains("\"weight\" : 7");
  }

  @Test
  void theCaFileCanComeFromTheEnvironment() {
    cli(Map.of("LODESTAR_TLS_CA", serverCert.toString(), "LODESTAR_TLS_CERT", client.cert().toString(),
        "LODESTAR_TLS_KEY", client.key().toString()), "services").expect(0);
  }

  @Test
  void withoutTheCaFileTheServerIsNotTrusted() {
    CliRun r = CliRun.run(Map.of(), "services", "--server", "https://" + address,
        "--tls-cert", client.cert().toString(), "--tls-key", client.key().toString()).expect(3);
    assertThat(r.err()).contains("not trusted").contains("--tls-ca");
  }

  @Test
  void withoutAClientCertificateMutualTlsRefuses() {
    CliRun r = cli(Map.of(), "services", "--tls-ca", serverCert.toString()).expect(3);
    assertThat(r.err()).contains("client certificate").contains("--tls-cert");
  }

  @Test
  void plaintextGetsNoAnswerAndAHint() {
    CliRun r = cli(Map.of(), "services").expect(3);
    assertThat(r.err()).contains("--tls-ca");
  }

  @Test
  void theConsoleWritesThroughItsLoopbackUnderMutualTls() throws Exception {
    HttpClient http = HttpClient.newBuilder()
        .sslContext(CliTls.context(serverCert, client.cert(), client.key())).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://" + address + "/ui/cluster/snapshot"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("Snapshot taken");
  }
}
