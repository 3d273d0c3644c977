package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fetch on a ready stream is sent from the caller's thread and answered on the event loop;
 * without a ready stream it waits in the control thread's queue. Both ways: real answers, the
 * request timeout, the close, a server that comes back.
 */
class FetchPathTest {
  @TempDir
  static Path dataDir;
  static TestServer server;

  private final List<LodestarClient> clients = new ArrayList<>();

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
    clients.clear();
  }

  private LodestarClient client(Duration requestTimeout) {
    LodestarClient c = LodestarClient.builder().servers(server.address()).requestTimeout(requestTimeout)
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)).build();
    clients.add(c);
    return c;
  }

  @Test
  void fetchesFromManyThreadsEachGetTheServersWholeAnswer() throws Exception {
    LodestarClient writer = client(Duration.ofSeconds(30));
    for (int i = 1; i <= 20; i++) {
      writer.register(RegistrationSpec.builder().service("many").host("10.2.0.1").port(i).ttlSeconds(60)
          .metadata(java.util.Map.of("zone", "z" + (i % 3), "lane", "blue")).build());
    }
    List<LodestarClient> readers = List.of(client(Duration.ofSeconds(30)), client(Duration.ofSeconds(30)));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        LodestarClient r = readers.get(t % 2);
        done.add(pool.submit(() -> {
          for (int n = 0; n < 200; n++) {
            ServiceSnapshot s = r.fetch("default", "many");
            assertThat(s.instances()).hasSize(20);
            assertThat(s.instances().get(0).metadata()).containsEntry("lane", "blue");
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    // a read is the server's current answer, never one kept from before
    writer.deregister("default", "many", "10.2.0.1:1");
    assertThat(readers.get(0).fetch("default", "many").instances()).hasSize(19);
    assertThatThrownBy(() -> readers.get(1).fetch("no-such-namespace", "many"))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
  }

  @Test
  void withoutAServerAFetchTimesOutOrWaitsForItAndAClosedClientFailsWhatIsLeft() throws Exception {
    LodestarClient writer = client(Duration.ofSeconds(30));
    writer.register(RegistrationSpec.builder().service("back").host("10.2.0.2").port(1).persistent(true).build());
    LodestarClient quick = client(Duration.ofMillis(300));
    LodestarClient patient = client(Duration.ofSeconds(60));
    LodestarClient closing = client(Duration.ofSeconds(60));
    assertThat(patient.fetch("default", "back").instances()).hasSize(1);  // its stream is ready

    server.stop();
    await().until(() -> patient.status().state() != ClientStatus.State.CONNECTED
        && quick.status().state() != ClientStatus.State.CONNECTED);
    assertThatThrownBy(() -> quick.fetch("default", "back"))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("timeout"));
    CompletableFuture<ServiceSnapshot> waiting = patient.fetchAsync("default", "back");
    CompletableFuture<ServiceSnapshot> abandoned = closing.fetchAsync("default", "back");
    closing.close();
    assertThatThrownBy(abandoned::get).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("closed"));
    assertThat(waiting).isNotDone();

    server.restart();
    assertThat(waiting.get(60, java.util.concurrent.TimeUnit.SECONDS).instances()).hasSize(1);
    // once reconnected, the direct way again (a try before the stream is ready may time out: tried again)
    await().ignoreException(LodestarClientException.class)
        .untilAsserted(() -> assertThat(quick.fetch("default", "back").instances()).hasSize(1));
  }
}
