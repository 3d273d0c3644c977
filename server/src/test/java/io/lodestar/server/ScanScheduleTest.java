package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Heartbeat;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.RegisterRequest;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.api.v1.SubscribeRequest;
import io.lodestar.server.naming.ExpiryProtection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the health scans run on a single node with the system clock: with nothing due they sleep
 * until a lease can next lapse, and expiry still happens on time — an instance whose heartbeats stop
 * is seen unhealthy after its TTL and only then removed (3 × TTL), never straight from healthy to
 * gone, which is what a scan that slept past both would show. Each instance's health is recorded
 * from the push stream, every transition in order.
 */
class ScanScheduleTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static NamingGrpc.NamingStub stub;

  @BeforeAll
  static void start() {
    // these instances are few: each expiry would be a mass expiry (its own test below)
    server = LodestarServer.builder().port(0).dataDir(dir).expiryProtection(ExpiryProtection.OFF).build().start();
    http = new Http(server.port());
    stub = GrpcClients.newClient("http://127.0.0.1:" + server.port(), NamingGrpc.NamingStub.class);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** One stream: registers, heartbeats, and records every health an instance of a watched service had. */
  static final class Stream implements ClientResponseObserver<ClientMessage, ServerMessage> {
    final List<ServerMessage> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, Instance> state = new HashMap<>();
    private final Map<String, List<String>> history = new HashMap<>();
    ClientCallStreamObserver<ClientMessage> out;

    static Stream connect(String clientId) {
      Stream s = new Stream();
      stub.connect(s);
      s.send(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId(clientId)).build());
      await().until(() -> s.received.stream().anyMatch(ServerMessage::hasWelcome));
      return s;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ClientMessage> requestStream) {
      out = requestStream;
    }

    synchronized void send(ClientMessage m) {
      out.onNext(m);
    }

    void watch(String svc) {
      send(ClientMessage.newBuilder().setSubscribe(SubscribeRequest.newBuilder().setNamespace("default")
          .setService(svc)).build());
      await().until(() -> received.stream().anyMatch(ServerMessage::hasUpdate));
    }

    void register(long rid, String svc, String id, int ttl) {
      send(ClientMessage.newBuilder().setRequestId(rid).setRegister(RegisterRequest.newBuilder()
          .setNamespace("default").setService(svc).setInstance(Instance.newBuilder().setId(id).setHost("127.0.0.1")
              .setPort(9000).setTtlSeconds(ttl))).build());
      await().until(() -> received.stream().anyMatch(m -> m.getRequestId() == rid));
      assertThat(received.stream().filter(m -> m.getRequestId() == rid).findFirst().get().hasRegistered()).isTrue();
    }

    void heartbeat() {
      send(ClientMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build());
    }

    @Override
    public synchronized void onNext(ServerMessage m) {
      received.add(m);
      if (!m.hasUpdate()) {
        return;
      }
      ServiceUpdate u = m.getUpdate();
      if (u.getSnapshot()) {
        state.clear();
      }
      u.getRemovedIdsList().forEach(state::remove);
      u.getInstancesList().forEach(i -> state.put(i.getId(), i));
      for (String id : new java.util.HashSet<>(history.keySet())) {
        note(id);
      }
      state.keySet().forEach(this::note);
    }

    private void note(String id) {
      Instance i = state.get(id);
      String now = i == null ? "absent" : i.getHealth().name();
      List<String> h = history.computeIfAbsent(id, k -> new ArrayList<>());
      if (h.isEmpty() ? i != null : !h.get(h.size() - 1).equals(now)) {
        h.add(now);
      }
    }

    /** Every health the instance had, in order, from the first time it was seen; "absent" once removed. */
    synchronized List<String> history(String id) {
      return List.copyOf(history.getOrDefault(id, List.of()));
    }

    @Override
    public void onError(Throwable t) {
    }

    @Override
    public void onCompleted() {
    }
  }

  /** The last three states: healthy, then unhealthy, then gone. */
  private static boolean lapsedThenRemoved(List<String> history) {
    return history.size() >= 3
        && history.subList(history.size() - 3, history.size()).equals(List.of("HEALTHY", "UNHEALTHY", "absent"));
  }

  @Test
  void aNewInstanceOnAnIdleNodeLapsesAfterItsTtlAndIsRemovedAfterThree() {
    Stream watcher = Stream.connect("watcher-new");
    watcher.watch("fresh");
    // nothing held: the scans sleep (up to the 30 s safety walk); a registration must wake them
    await().until(server::healthScansIdle);
    assertThat(http.post("/v1/namespaces/default/services/fresh/instances",
        "{\"id\":\"once\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":2}").status()).isEqualTo(201);
    await().until(() -> watcher.history("once").contains("absent"));
    assertThat(watcher.history("once")).containsExactly("HEALTHY", "UNHEALTHY", "absent");
    watcher.out.onCompleted();
  }

  @Test
  void aStreamsInstanceLapsesAfterItsTtlOnceItsHeartbeatsStopAndIsRemovedAfterThree() {
    Stream watcher = Stream.connect("watcher-stream");
    watcher.watch("kept");
    Stream owner = Stream.connect("owner");
    owner.register(1, "kept", "beating", 3);
    // heartbeats every half second: the node holds the lease and still sleeps between scans
    await().pollInterval(Duration.ofMillis(500)).until(() -> {
      owner.heartbeat();
      return server.healthScansIdle();
    });
    assertThat(watcher.history("beating")).startsWith("HEALTHY");
    owner.out.cancel("simulated crash", null); // no goodbye: the lease runs out
    await().until(() -> watcher.history("beating").contains("absent"));
    assertThat(lapsedThenRemoved(watcher.history("beating"))).as("%s", watcher.history("beating")).isTrue();
    watcher.out.onCompleted();
  }

  @Test
  void aRestInstanceLapsesAfterItsTtlOnceItsHeartbeatsStopAndIsRemovedAfterThree() {
    Stream watcher = Stream.connect("watcher-rest");
    watcher.watch("beats");
    String path = "/v1/namespaces/default/services/beats/instances";
    assertThat(http.post(path, "{\"id\":\"rest\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":3}").status())
        .isEqualTo(201);
    await().pollInterval(Duration.ofMillis(500)).until(() -> {
      assertThat(http.put(path + "/rest/heartbeat", "").status()).isEqualTo(200);
      return server.healthScansIdle();
    });
    await().until(() -> watcher.history("rest").contains("absent"));
    assertThat(lapsedThenRemoved(watcher.history("rest"))).as("%s", watcher.history("rest")).isTrue();
    watcher.out.onCompleted();
  }

  @Test
  void anActiveProbeKeepsTheScansEverySecond() throws Exception {
    String path = "/v1/namespaces/default/services/probed/instances";
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    await().until(server::healthScansIdle);
    assertThat(http.post(path, "{\"id\":\"p\",\"host\":\"127.0.0.1\",\"port\":" + closed
        + ",\"ephemeral\":false,\"check\":{\"type\":\"tcp\",\"intervalSeconds\":1,\"timeoutSeconds\":1}}").status())
        .isEqualTo(201);
    assertThat(server.healthScansIdle()).isFalse(); // the probe re-armed the sleeping scan
    await().until(() -> http.get(path).json().get("instances").get(0).get("health").asText().equals("UNHEALTHY"));
    assertThat(server.healthScansIdle()).isFalse();
    assertThat(http.delete(path + "/p").status()).isEqualTo(200);
    await().until(server::healthScansIdle); // no probe left: idle again
  }

  @Test
  void aMassExpiryPauseKeepsTheScansEverySecond(@TempDir Path other) {
    try (LodestarServer guarded = LodestarServer.builder().port(0).dataDir(other).build().start()) {
      Http h = new Http(guarded.port());
      String path = "/v1/namespaces/default/services/many/instances";
      await().until(guarded::healthScansIdle);
      for (String id : List.of("a", "b", "c")) {
        assertThat(h.post(path, "{\"id\":\"" + id + "\",\"host\":\"h\",\"port\":1,\"ttlSeconds\":1}").status())
            .isEqualTo(201);
      }
      // all three fall silent at once: removal pauses, and the pause is judged again every second
      await().until(() -> h.get("/health").json().has("expiryProtection"));
      assertThat(guarded.healthScansIdle()).isFalse();
      // those held by the pause (removals before it reached its count went) leave by deregistration
      for (var i : h.get(path).json().get("instances")) {
        assertThat(i.get("health").asText()).isEqualTo("UNHEALTHY");
        assertThat(h.delete(path + "/" + i.get("id").asText()).status()).isEqualTo(200);
      }
      await().until(() -> !h.get("/health").json().has("expiryProtection"));
      await().until(guarded::healthScansIdle);
    }
  }
}
