package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nothing acknowledged is lost: kill -9 under load, restarts, snapshots, damaged files. */
class PersistenceTest {
  @TempDir Path dir;

  private static Set<String> ids(Http http, String ns, String svc) {
    Set<String> ids = new HashSet<>();
    Http.Response r = http.get("/v1/namespaces/" + ns + "/services/" + svc + "/instances");
    for (JsonNode i : r.json().get("instances")) {
      ids.add(i.get("id").asText());
    }
    return ids;
  }

  /**
   * Kill -9 under load loses nothing acknowledged; the restarted node then stops cleanly on SIGTERM
   * and, started again, has kept everything and gives its ephemeral instance a fresh lease. One
   * data directory and three starts, where two tests each paid for a start and a stop.
   */
  @Test
  void everyAcknowledgedWriteSurvivesKillMinus9UnderLoadAndACleanSigterm() throws Exception {
    Path data = dir.resolve("node");
    int port = ServerProcess.freePort();
    // a small snapshot interval so that the run crosses snapshots and log segments
    try (ServerProcess node = new ServerProcess(port, data, "--snapshot-every", "150").start()) {
      Http http = new Http(port);
      assertThat(http.post("/v1/namespaces", "{\"name\":\"prod\"}").status()).isEqualTo(201);
      assertThat(http.put("/v1/namespaces/prod/services/db", "{\"metadata\":{\"owner\":\"dba\"},\"protectThreshold\":0.7}")
          .status()).isEqualTo(200);

      Set<String> acknowledged = ConcurrentHashMap.newKeySet();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService writers = Executors.newFixedThreadPool(4);
      List<Future<?>> running = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int writer = w;
        running.add(writers.submit(() -> {
          for (int n = 0; !stop.get(); n++) {
            String id = "w" + writer + "-" + n;
            try {
              Http.Response r = http.post("/v1/namespaces/prod/services/db/instances", "{\"id\":\"" + id
                  + "\",\"host\":\"10.0.0." + writer + "\",\"port\":" + (1000 + n % 60000) + ",\"ephemeral\":false}");
              if (r.status() == 201) {
                acknowledged.add(id);
              }
            } catch (RuntimeException e) {
              return; // the server died under us: this write was never acknowledged
            }
          }
        }));
      }
      org.awaitility.Awaitility.await().until(() -> acknowledged.size() >= 400);
      node.kill();
      stop.set(true);
      for (Future<?> f : running) {
        f.get(30, TimeUnit.SECONDS);
      }
      writers.shutdown();

      try (ServerProcess again = new ServerProcess(port, data).start()) {
        Set<String> stored = ids(http, "prod", "db");
        assertThat(stored).containsAll(acknowledged);
        JsonNode svc = http.get("/v1/namespaces/prod/services/db").json();
        assertThat(svc.get("metadata").get("owner").asText()).isEqualTo("dba");
        assertThat(svc.get("protectThreshold").asDouble()).isEqualTo(0.7);
        // and it keeps working: revisions continue to grow
        long rev = http.get("/v1/namespaces/prod/services/db/instances").json().get("revision").asLong();
        http.post("/v1/namespaces/prod/services/db/instances", "{\"id\":\"after\",\"host\":\"h\",\"port\":1,\"ephemeral\":false}");
        assertThat(http.get("/v1/namespaces/prod/services/db/instances").json().get("revision").asLong())
            .isGreaterThan(rev);

        // a clean stop on SIGTERM keeps everything, and an ephemeral instance gets a fresh lease
        http.post("/v1/namespaces/default/services/web/instances", "{\"id\":\"p\",\"host\":\"h\",\"port\":1,\"ephemeral\":false}");
        http.post("/v1/namespaces/default/services/web/instances", "{\"id\":\"e\",\"host\":\"h\",\"port\":2,\"ttlSeconds\":60}");
        long logBefore = Files.size(again.logFile());
        assertThat(again.terminate()).isIn(0, 143);
        assertThat(Files.readString(again.logFile()).substring((int) logBefore)).contains("Lodestar stopped");
      }
      try (ServerProcess third = new ServerProcess(port, data).start()) {
        assertThat(ids(http, "default", "web")).containsExactlyInAnyOrder("p", "e");
        assertThat(ids(http, "prod", "db")).containsAll(acknowledged).contains("after");
        // the ephemeral instance is healthy and heartbeats work against the restored lease
        assertThat(http.put("/v1/namespaces/default/services/web/instances/e/heartbeat", "").status()).isEqualTo(200);
      }
    }
  }

  @Test
  void aTornRecordAtTheEndIsCutOffAndDamageInTheMiddleRefusesToStart() throws Exception {
    Path data = dir.resolve("node");
    LodestarServer s = LodestarServer.builder().port(0).dataDir(data).build().start();
    Http http = new Http(s.port());
    http.post("/v1/namespaces/default/services/a/instances", "{\"id\":\"x\",\"host\":\"h\",\"port\":1,\"ephemeral\":false}");
    int port = s.port();
    s.close();
    // the clean close wrote a snapshot and opened an empty segment: write into it, then tear it
    s = LodestarServer.builder().port(0).dataDir(data).snapshotEvery(1_000_000).build().start();
    http = new Http(s.port());
    http.post("/v1/namespaces/default/services/a/instances", "{\"id\":\"y\",\"host\":\"h\",\"port\":2,\"ephemeral\":false}");
    // simulate a crash: no clean close (a clean close would snapshot); copy the files as they are now
    Path crashed = dir.resolve("crashed");
    copy(data.resolve("state"), crashed.resolve("state"));
    s.close();
    Path segment = lastSegment(crashed.resolve("state"));
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.wrap(new byte[] {0, 0, 1, 0, 9, 9})); // a record header cut short
    }
    // the same damage, but not at the tail (a later segment exists): refuse to start
    Path damaged = dir.resolve("damaged");
    copy(crashed.resolve("state"), damaged.resolve("state"));
    Path middle = damaged.resolve("state").resolve(segment.getFileName());
    byte[] bytes = Files.readAllBytes(middle);
    bytes[20] ^= 0x55; // inside the first record's payload
    Files.write(middle, bytes);
    Files.createFile(middle.resolveSibling("log-99999999999999999999.wal"));
    assertThatThrownBy(() -> LodestarServer.builder().port(0).dataDir(damaged).build().start())
        .hasMessageContaining("cannot open storage").hasRootCauseMessage(rootMessage(middle));

    LodestarServer recovered = LodestarServer.builder().port(0).dataDir(crashed).build().start();
    try {
      assertThat(ids(new Http(recovered.port()), "default", "a")).containsExactlyInAnyOrder("x", "y");
    } finally {
      recovered.close();
    }
  }

  private static String rootMessage(Path segment) {
    return "log segment " + segment
        + " is damaged at byte 0 (bad checksum) and is not the last one; refusing to start rather than lose"
        + " acknowledged writes";
  }

  private static Path lastSegment(Path state) throws IOException {
    try (Stream<Path> files = Files.list(state)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().reduce((a, b) -> b).orElseThrow();
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : files.toList()) {
        Files.copy(p, to.resolve(p.getFileName()));
      }
    }
  }
}
