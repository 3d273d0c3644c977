package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.auth.ClusterCredential;
import io.lodestar.server.tls.SelfSignedCerts;
import io.lodestar.server.tls.ServerTls;
import io.lodestar.server.tls.TlsSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-node cluster run the safe way, as real processes: {@code --auth}, mutual TLS with
 * certificates from one CA, and a cluster secret. Members call each other over https with the
 * cluster credential (cluster status, telemetry), Raft runs over mutual TLS, and an outsider
 * without the secret is refused on the internal endpoints even with an admin token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OneRealClusterAtATime.class)
class ClusterSecurityTest {
  private static final Duration LONG = Duration.ofSeconds(300); // as ServerProcess' start bound
  private static final List<String> IDS = List.of("n1", "n2", "n3");

  @TempDir static Path dir;
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final Map<String, ServerProcess> nodes = new LinkedHashMap<>();
  private final Map<String, Path> certs = new LinkedHashMap<>();
  private SelfSignedCerts.Authority ca;
  private String spec;
  private byte[] secret;
  private SSLContext operator;
  private String admin;

  @BeforeAll
  void startCluster() throws IOException {
    Path pki = dir.resolve("pki");
    ca = SelfSignedCerts.authority(pki, "ca", "lodestar-test-ca");
    secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    Path secretFile = Files.write(dir.resolve("cluster-secret"), secret);
    for (String id : IDS) {
      ports.put(id, ServerProcess.freePortPair());
    }
    spec = IDS.stream().map(id -> id + "=127.0.0.1:" + ports.get(id)).collect(Collectors.joining(","));
    for (String id : IDS) {
      SelfSignedCerts.CertFiles c = ca.issue(pki, id, List.of("localhost", "127.0.0.1"));
      certs.put(id, c.cert());
      nodes.put(id, new ServerProcess(ports.get(id), dir.resolve(id), "--node-id", id, "--cluster", spec, "--auth",
          "--cluster-secret-file", secretFile.toString(), "--tls-cert", c.cert().toString(), "--tls-key",
          c.key().toString(), "--tls-client-ca", ca.files().cert().toString()).startAsync());
    }
    // the operator: a client certificate from the same CA (mutual TLS), but not the cluster secret
    SelfSignedCerts.CertFiles op = ca.issue(pki, "operator", List.of("operator"));
    operator = ServerTls.resolve(new TlsSettings(op.cert(), op.key(), ca.files().cert(), false), dir.resolve("op"),
        "127.0.0.1").peers().sslContext();
    for (String id : IDS) {
      ServerProcess p = nodes.get(id);
      await().atMost(LONG).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
        if (!p.isAlive()) {
          throw new IllegalStateException(id + " exited; see " + p.logFile());
        }
        return https(id).get("/health").status() == 200;
      });
    }
    // one node's bootstrap token wins (written once the cluster elected a leader)
    await().atMost(LONG).ignoreExceptions().until(() -> {
      for (String id : IDS) {
        Path f = dir.resolve(id).resolve("bootstrap-token");
        if (Files.isRegularFile(f) && !Files.readString(f).isBlank()) {
          admin = Files.readString(f).trim();
          return true;
        }
      }
      return false;
    });
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (ServerProcess p : nodes.values()) {
      p.close();
    }
    Path keep = Path.of("target", "cluster-logs", getClass().getSimpleName());
    Files.createDirectories(keep);
    for (String id : IDS) {
      Path log = nodes.get(id).logFile();
      if (Files.exists(log)) {
        Files.copy(log, keep.resolve("secure-" + id + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private Http https(String id) {
    return Http.tls(ports.get(id), operator);
  }

  private Http adminOn(String id) {
    return https(id).withToken(admin);
  }

  @Test
  void formsOverTlsAndAnswersTheMemberQueryAndTelemetry() {
    // /v1/cluster asks each member for its state over https, with the cluster credential
    await().atMost(LONG).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
      JsonNode c = adminOn("n2").get("/v1/cluster").json();
      List<String> roles = new ArrayList<>();
      c.get("members").forEach(m -> roles.add(m.path("role").asText()));
      assertThat(roles).hasSize(3).containsOnly("leader", "follower").containsOnlyOnce("leader");
    });
    // the telemetry merge reaches both peers
    JsonNode topo = adminOn("n3").get("/v1/namespaces/default/topology").json();
    assertThat(topo.path("unreachable").size()).as(topo.toString()).isZero();
    assertThat(topo.path("partial").asBoolean()).isFalse();
  }

  @Test
  void replicatesOverMutualTlsRaft() throws Exception {
    Http.Response created = adminOn("n1").post("/v1/namespaces/default/services/orders/instances",
        "{\"host\":\"10.0.0.7\",\"port\":8080,\"ephemeral\":false}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    for (String id : List.of("n2", "n3")) {
      await().atMost(LONG).untilAsserted(() -> assertThat(adminOn(id)
          .get("/v1/namespaces/default/services/orders/instances").body()).contains("10.0.0.7"));
    }
    // each Raft port speaks TLS and shows the member's own certificate
    CertificateFactory f = CertificateFactory.getInstance("X.509");
    for (String id : IDS) {
      X509Certificate expected;
      try (var in = Files.newInputStream(certs.get(id))) {
        expected = (X509Certificate) f.generateCertificate(in);
      }
      try (SSLSocket s = (SSLSocket) operator.getSocketFactory().createSocket("127.0.0.1", ports.get(id) + 1)) {
        s.startHandshake();
        assertThat(s.getSession().getPeerCertificates()[0]).isEqualTo(expected);
      }
      assertThat(Files.readString(nodes.get(id).logFile())).contains("mutual TLS), members");
    }
  }

  /** What a member reports of itself, asked as another member would. */
  private JsonNode member(String id) {
    return https(id).get("/v1/cluster/node", Map.of(ClusterCredential.HEADER,
        ClusterCredential.derive(secret).headerValue())).json();
  }

  @Test
  void secretsRotateThroughTheLogAndEveryMemberKeepsReadingThem() throws Exception {
    String path = "/v1/namespaces/default/configs/app/creds.properties";
    String plain = "db.password=hunter2";
    assertThat(adminOn("n1").put(path + "?secret=true", plain).status()).isEqualTo(200);
    Http.Response rotated = adminOn("n2").post("/v1/secrets/rotate", "");
    assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
    String oldKey = rotated.json().path("oldKeyId").asText();
    String newKey = rotated.json().path("newKeyId").asText();
    assertThat(newKey).isNotEqualTo(oldKey).hasSize(16);
    assertThat(rotated.json().path("versions").asInt()).isPositive();
    // every member applied the new generation and derived the same key from the cluster secret
    for (String id : IDS) {
      await().atMost(LONG).untilAsserted(() -> assertThat(member(id).path("secretKeyId").asText()).isEqualTo(newKey));
    }
    // read through a member other than the one that rotated (and the one that wrote)
    await().atMost(LONG).untilAsserted(() -> assertThat(adminOn("n3").get(path).body()).isEqualTo(plain));

    // a member restarted (kill -9) replays the rotation, passes the key check against the others, and reads
    ServerProcess n3 = nodes.get("n3");
    n3.kill();
    n3.startAsync();
    await().atMost(LONG).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      if (!n3.isAlive()) {
        throw new IllegalStateException("n3 exited; see " + n3.logFile());
      }
      return https("n3").get("/health").status() == 200;
    });
    assertThat(Files.readString(n3.logFile())).containsPattern("Secret key " + oldKey
        + ": the same as members \\[127.0.0.1:\\d+, 127.0.0.1:\\d+\\]");
    await().atMost(LONG).untilAsserted(() -> {
      assertThat(member("n3").path("secretKeyId").asText()).isEqualTo(newKey);
      assertThat(adminOn("n3").get(path + "?consistent=true").body()).isEqualTo(plain);
    });
    // a second rotation moves on from there
    Http.Response again = adminOn("n3").post("/v1/secrets/rotate", "");
    assertThat(again.status()).as(again.body()).isEqualTo(200);
    assertThat(again.json().path("oldKeyId").asText()).isEqualTo(newKey);
    await().atMost(LONG).untilAsserted(() -> assertThat(adminOn("n1").get(path).body()).isEqualTo(plain));
  }

  /**
   * The secret-key check at start runs over https with the credential: a member restarted finds its
   * peers' key the same (logged), and a node given another cluster secret is refused by the
   * members and so refuses to start, as a node with another key did before members checked credentials.
   */
  @Test
  void aNodeWithAnotherClusterSecretRefusesToStart() throws Exception {
    byte[] other = new byte[32];
    new SecureRandom().nextBytes(other);
    Path otherFile = Files.write(dir.resolve("other-secret"), other);
    int port = ServerProcess.freePortPair();
    Path pki = dir.resolve("pki");
    SelfSignedCerts.CertFiles c = ca.issue(pki, "n4", List.of("localhost", "127.0.0.1"));
    ServerProcess n4 = new ServerProcess(port, dir.resolve("n4"), "--node-id", "n4", "--join", "--cluster",
        spec + ",n4=127.0.0.1:" + port, "--auth", "--cluster-secret-file", otherFile.toString(), "--tls-cert",
        c.cert().toString(), "--tls-key", c.key().toString(), "--tls-client-ca", ca.files().cert().toString())
        .startAsync();
    try {
      await().atMost(LONG).until(() -> !n4.isAlive());
      assertThat(n4.terminate()).isNotZero();
      assertThat(Files.readString(n4.logFile())).contains("cannot start", "refuses this node's cluster credential",
          "--cluster-secret-file");
    } finally {
      n4.close();
    }
  }

  @Test
  void outsidersWithoutTheSecretAreRefusedOnInternalEndpoints() {
    for (String path : List.of("/v1/cluster/node", "/v1/internal/telemetry/default")) {
      Http.Response none = https("n1").get(path);
      assertThat(none.status()).as(path).isEqualTo(401);
      assertThat(none.json().at("/error/permission").asText()).isEqualTo("cluster");
      // an admin token is no member
      Http.Response admin = adminOn("n1").get(path);
      assertThat(admin.status()).as(path).isEqualTo(403);
      assertThat(admin.json().at("/error/code").asText()).isEqualTo("permission_denied");
      // a made-up credential
      Http.Response forged = https("n1").get(path, Map.of(ClusterCredential.HEADER, "not-the-secret"));
      assertThat(forged.status()).as(path).isEqualTo(401);
      // the cluster's own credential is answered
      Http.Response member = https("n1").get(path,
          Map.of(ClusterCredential.HEADER, ClusterCredential.derive(secret).headerValue()));
      assertThat(member.status()).as(path).isEqualTo(200);
    }
    // and the credential grants nothing else
    Http.Response other = https("n1").get("/v1/namespaces/default/services",
        Map.of(ClusterCredential.HEADER, ClusterCredential.derive(secret).headerValue()));
    assertThat(other.status()).isEqualTo(401);
  }
}
