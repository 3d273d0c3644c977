package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything under the data directory is owner-only: directories 0700, files 0600. */
class DataDirPermissionsTest {
  @TempDir Path dir;

  @Test
  void dataIsOwnerOnlyAndAnOlderLooseDirectoryIsRepaired() throws Exception {
    Path data = dir.resolve("data");
    // As an older version left it: a world-readable directory and file.
    Files.createDirectories(data.resolve("state"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(data.resolve("notes.txt"), "x");
    Files.setPosixFilePermissions(data.resolve("notes.txt"), PosixFilePermissions.fromString("rw-r--r--"));

    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(data).build().start()) {
      Http http = new Http(server.port());
      assertThat(http.post("/v1/namespaces/default/services/orders/instances",
          "{\"host\":\"10.0.0.7\",\"port\":8080}").status()).isEqualTo(201);
      assertThat(http.put("/v1/namespaces/default/configs/app/a.txt", "hello").status()).isEqualTo(200);
      server.snapshot();
    }
    List<Path> all;
    try (Stream<Path> s = Files.walk(data)) {
      all = s.toList();
    }
    assertThat(all).anyMatch(p -> p.getFileName().toString().endsWith(".wal"))
        .anyMatch(p -> p.getFileName().toString().startsWith("snapshot-"));
    for (Path p : all) {
      String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
      assertThat(perms).as(p.toString()).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
    }
  }
}
