package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registration retry storm of issue 11, with real parts: one server, real SDK clients.
 */
class WriteOverloadTest {
  @TempDir
  static Path dataDir;
  static TestServer server;

  private final List<LodestarClient> clients = new ArrayList<>();
  /** Every state a client left CONNECTED for, and why: a stream that broke under load shows here. */
  private final List<String> troubles = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startServer() {
    server = TestServer.start(dataDir);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @AfterEach
  void closeClients() {
    clients.forEach(LodestarClient::close);
  }

  private LodestarClient client() {
    LodestarClient c = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(60))
        .build();
    c.addStatusListener(s -> {
      if (s.state() != ClientStatus.State.CONNECTED && s.state() != ClientStatus.State.CLOSED
          && !s.detail().isEmpty()) {
        troubles.add(s.state() + ": " + s.detail());
      }
    });
    clients.add(c);
    return c;
  }

  /** A registration of about 16 KiB on the wire. */
  private static RegistrationSpec big(String service, int i) {
    RegistrationSpec.Builder b = RegistrationSpec.builder().service(service).id("i-" + i).host("10.2.0.1")
        .port(1000 + i).ttlSeconds(60);
    for (int k = 0; k < 16; k++) {
      b.putMetadata("key" + k, String.valueOf((char) ('a' + k)).repeat(1000));
    }
    return b.build();
  }

  @Test
  void aStreamCarriesMoreThanTheLargestMessageInAll() {
    // 1 MiB is the limit of one message; a stream lives for days and carries far more (it was
    // reset after 1 MiB in all, and each reconnect re-sent its registrations into the same limit)
    LodestarClient c = client();
    List<CompletableFuture<Instance>> done = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      done.add(c.registerAsync(big("long-stream", i)));
    }
    done.forEach(CompletableFuture::join);
    assertThat(troubles).as("the stream never broke").isEmpty();
    await().untilAsserted(() -> assertThat(c.getInstances("default", "long-stream")).hasSize(100));
  }
}
