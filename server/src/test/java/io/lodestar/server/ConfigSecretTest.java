package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret configs: encrypted at rest (in the log and in snapshots), masked in listings and history. */
class ConfigSecretTest {
  static final String PLAIN = "db.password=Sup3r-S3cret-Passw0rd-4711";
  static final String PATH = "/v1/namespaces/default/configs/app/creds.properties";
  @TempDir Path dir;

  @Test
  void secretsAreEncryptedAtRestAndMasked() throws Exception {
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dir).build().start()) {
      Http http = new Http(server.port());
      assertThat(http.put(PATH + "?secret=true", PLAIN).status()).isEqualTo(200);
      assertThat(http.put(PATH, PLAIN + "\nmore=1").status()).isEqualTo(200);  // stays secret

      Http.Response got = http.get(PATH);
      assertThat(got.body()).isEqualTo(PLAIN + "\nmore=1");
      assertThat(http.get(PATH + "?version=1").body()).isEqualTo(PLAIN);

      JsonNode listed = http.get("/v1/namespaces/default/configs").json().get("configs").get(0);
      assertThat(listed.get("secret").asBoolean()).isTrue();
      assertThat(listed.get("preview").asText()).isEqualTo("******");
      JsonNode history = http.get(PATH + "/history").json();
      assertThat(history.toString()).doesNotContain("Sup3r").contains("******");
      assertThat(http.put(PATH + "?secret=false", "x=1").status()).isEqualTo(409);

      assertNoPlaintextUnder(dir);  // in the write-ahead log
      server.snapshot();
      assertNoPlaintextUnder(dir);  // and in the snapshot
    }
    assertNoPlaintextUnder(dir);    // and after the shutdown snapshot

    Path key = dir.resolve("secret.key");
    assertThat(Files.size(key)).isEqualTo(32);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");

    // Restarted with the same key file, the content decrypts.
    try (LodestarServer again = LodestarServer.builder().port(0).dataDir(dir).build().start()) {
      assertThat(new Http(again.port()).get(PATH + "?version=1").body()).isEqualTo(PLAIN);
    }
  }

  private static void assertNoPlaintextUnder(Path root) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(Files::isRegularFile).toList();
    }
    assertThat(files).anyMatch(p -> p.getFileName().toString().endsWith(".wal"));
    byte[] needle = "Sup3r-S3cret".getBytes(StandardCharsets.UTF_8);
    for (Path f : files) {
      byte[] all = Files.readAllBytes(f);
      assertThat(indexOf(all, needle)).as("plaintext found in %s", f).isEqualTo(-1);
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
