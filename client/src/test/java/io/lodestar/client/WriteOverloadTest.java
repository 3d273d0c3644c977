package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.server.LodestarServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registration retry storm of issue 11, with real parts: a server whose write queue holds 64
 * writes (new work is refused above 48), and SDK clients that ask for far more at once. Refused
 * registrations come back after a backoff, a reconnect re-asserts at the server's pace, and a
 * re-assertion of what the server already holds costs no log entry: the queue drains, every
 * registration is acknowledged, and the log stays a small multiple of what was registered.
 */
class WriteOverloadTest {
  private static final int WRITE_QUEUE = 64;

  @TempDir
  static Path dataDir;
  static LodestarServer server;
  static int port;

  private final List<LodestarClient> clients = new ArrayList<>();
  /** Every reason a client's stream ended: one that broke under load shows here. */
  private final List<String> troubles = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startServer() {
    server = start(0);
    port = server.port();
  }

  private static LodestarServer start(int port) {
    return LodestarServer.builder().bind("127.0.0.1").port(port).dataDir(dataDir).writeQueue(WRITE_QUEUE).build()
        .start();
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
    LodestarClient c = LodestarClient.builder().servers("127.0.0.1:" + port).requestTimeout(Duration.ofSeconds(120))
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    c.addStatusListener(s -> {
      if (s.state() != ClientStatus.State.CONNECTED && s.state() != ClientStatus.State.CLOSED) {
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

  private static RegistrationSpec small(String service, int i) {
    return RegistrationSpec.builder().service(service).id("i-" + i).host("10.3.0.1").port(1000 + i % 50_000)
        .ttlSeconds(60).putMetadata("zone", "z" + i % 3).build();
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

  @Test
  void anOverloadedWriteQueueDrainsAndAReconnectReassertsWithoutRewriting() throws Exception {
    int perClient = 300;
    List<LodestarClient> writers = List.of(client(), client(), client(), client());
    double refused0 = metric("lodestar_writes_refused_total\\{reason=\"busy\"\\}");
    long index0 = (long) metric("lodestar_log_index");
    // every registration at once: ten times what the queue takes
    List<CompletableFuture<Instance>> done = new ArrayList<>();
    for (int i = 0; i < perClient; i++) {
      for (int w = 0; w < writers.size(); w++) {
        done.add(writers.get(w).registerAsync(small("storm", w * perClient + i)));
      }
    }
    int total = done.size();
    // each one acknowledged (a refused one was sent again after a backoff, within its timeout)
    done.forEach(CompletableFuture::join);
    assertThat(metric("lodestar_writes_refused_total\\{reason=\"busy\"\\}")).as("the queue was overloaded")
        .isGreaterThan(refused0);
    LodestarClient reader = client();
    await().untilAsserted(() -> assertThat(reader.getInstances("default", "storm")).hasSize(total));
    long afterRegistering = (long) metric("lodestar_log_index");
    assertThat(afterRegistering - index0).as("one log entry per registration, give or take").isLessThan(2L * total);

    // the server restarts: every client reconnects and re-asserts all it holds, at once
    server.close();
    server = start(port);
    for (LodestarClient w : writers) {
      await().until(() -> w.status().state() == ClientStatus.State.CONNECTED);
    }
    // what the restarted node holds unchanged is renewed, not written again
    await().untilAsserted(() -> assertThat(metric("lodestar_registrations_unchanged_total\\{api=\"grpc\"\\}"))
        .isEqualTo(total));
    await().untilAsserted(() -> assertThat(reader.getHealthyInstances("default", "storm")).hasSize(total));
    assertThat((long) metric("lodestar_log_index") - afterRegistering).as("the re-assertions wrote nothing")
        .isLessThan(total / 10);
    assertThat(troubles).as("no stream ended with an internal error")
        .noneMatch(t -> t.contains("internal") || t.contains("UNKNOWN") || t.contains("RST_STREAM"));
  }

  /** One sample of the server's /metrics, 0 when it has none yet. */
  private static double metric(String nameAndLabels) throws Exception {
    // a new HTTP/1.1 connection each time: no h2c upgrade, nothing pooled across the server's restart
    String body = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("(?m)^" + nameAndLabels + " ([0-9.eE+-]+)$").matcher(body);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
