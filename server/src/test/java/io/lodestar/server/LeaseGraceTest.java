package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leases count from when the node serves, not from when its storage opened. */
class LeaseGraceTest {
  @TempDir Path dir;

  @Test
  void aSlowStartCostsNoLeaseItsGrace() {
    AtomicLong clock = new AtomicLong();
    String path = "/v1/namespaces/default/services/grace/instances";
    try (LodestarServer first = LodestarServer.builder().port(0).dataDir(dir).nanoClock(clock::get).build().start()) {
      assertThat(new Http(first.port()).post(path, "{\"id\":\"e1\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":10}")
          .status()).isEqualTo(201);
    }
    LodestarServer again = LodestarServer.builder().port(0).dataDir(dir).nanoClock(clock::get).build();
    // opening storage takes 40 s of the health clock: longer than three TTLs
    AtomicBoolean slow = new AtomicBoolean(true);
    again.stateMachine().registry().addListener(change -> {
      if (slow.getAndSet(false)) {
        clock.addAndGet(Duration.ofSeconds(40).toNanos());
      }
    });
    try (LodestarServer server = again.start()) {
      Http http = new Http(server.port());
      server.scanHealth();
      JsonNode list = http.get(path).json().get("instances");
      assertThat(list.findValuesAsText("id")).containsExactly("e1");
      assertThat(list.findValuesAsText("health")).containsExactly("HEALTHY");
      // and the grace is one TTL from serving, no more
      clock.addAndGet(Duration.ofSeconds(11).toNanos());
      server.scanHealth();
      assertThat(http.get(path).json().get("instances").findValuesAsText("health")).containsExactly("UNHEALTHY");
    }
  }
}
