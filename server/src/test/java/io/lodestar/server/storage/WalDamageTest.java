package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.api.v1.state.Command;
import io.lodestar.server.Http;
import io.lodestar.server.ServerProcess;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node's data directory, as kill -9 leaves it, with one record in the middle of its log
 * damaged: the node refuses to start and names the file and byte; with --wal-truncate-damaged it
 * starts with exactly the writes before the damaged record and says at WARN what it cut.
 */
class WalDamageTest {
  @TempDir Path dir;

  @Test
  void damageInTheMiddleRefusesToStartUnlessTruncationIsChosen() throws Exception {
    Path data = dir.resolve("data");
    int port = ServerProcess.freePort();
    ServerProcess node = new ServerProcess(port, data).start();
    Http http = new Http(port);
    for (int i = 1; i <= 12; i++) {
      assertThat(http.post("/v1/namespaces/default/services/wal/instances",
          "{\"host\":\"10.1.0." + i + "\",\"port\":80,\"ephemeral\":false}").status()).isEqualTo(201);
    }
    node.kill();

    Path wal;
    try (Stream<Path> s = Files.list(data.resolve("state"))) {
      wal = s.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().reduce((a, b) -> b).orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(wal);
    // the registrations' records: [int length][int crc32c][long index][command]
    List<int[]> records = new ArrayList<>(); // {offset, length, host's last octet}
    ByteBuffer b = ByteBuffer.wrap(bytes);
    for (int pos = 0; pos < bytes.length; ) {
      int len = b.getInt(pos);
      Command c = Command.parseFrom(ByteBuffer.wrap(bytes, pos + 16, len));
      if (c.hasRegisterInstance()) {
        String host = c.getRegisterInstance().getInstance().getHost();
        records.add(new int[] {pos, len, Integer.parseInt(host.substring(host.lastIndexOf('.') + 1))});
      }
      pos += 16 + len;
    }
    assertThat(records).hasSize(12);
    int[] victim = records.get(5);  // the sixth registration; six more follow it
    bytes[victim[0] + 16 + victim[1] / 2] ^= 0x20;
    Files.write(wal, bytes);

    ServerProcess refused = new ServerProcess(port, data).startAsync();
    await().atMost(Duration.ofSeconds(120)).until(() -> !refused.isAlive());
    assertThat(refused.terminate()).isNotZero();
    assertThat(Files.readString(refused.logFile())).contains("cannot start", wal.getFileName().toString(),
        "damaged at byte " + victim[0], "--wal-truncate-damaged");
    assertThat(Files.readAllBytes(wal)).as("nothing was cut").isEqualTo(bytes);

    ServerProcess cut = new ServerProcess(port, data, "--wal-truncate-damaged").start();
    try {
      String body = http.get("/v1/namespaces/default/services/wal/instances").body();
      for (int[] r : records) {
        if (r[2] < victim[2]) {
          assertThat(body).contains("\"10.1.0." + r[2] + "\"");
        } else {
          assertThat(body).doesNotContain("\"10.1.0." + r[2] + "\"");
        }
      }
      assertThat(Files.readString(cut.logFile())).contains("WARN", "--wal-truncate-damaged: cutting");
    } finally {
      cut.terminate();
    }
  }
}
