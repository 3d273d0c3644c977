package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Servers going away and coming back, and the failover cache on disk. */
class FailoverIntegrationTest {
  private static final String NS = "default";
  private final List<LodestarClient> clients = new ArrayList<>();
  private final List<TestServer> servers = new ArrayList<>();

  /** Clients first: a server stops faster with no stream open. */
  @AfterEach
  void closeAll() {
    clients.forEach(LodestarClient::close);
    servers.forEach(TestServer::close);
  }

  private LodestarClient track(LodestarClient c) {
    clients.add(c);
    return c;
  }

  private TestServer track(TestServer s) {
    servers.add(s);
    return s;
  }

  private LodestarClient client(String server, Path cacheDir) {
    LodestarClient.Builder b = LodestarClient.builder().servers(server)
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .requestTimeout(Duration.ofSeconds(30)); // a loaded machine can be slow; the tests assert outcomes
    if (cacheDir != null) {
      b.cacheDir(cacheDir);
    }
    return track(b.build());
  }

  private static RegistrationSpec spec(String service, int port) {
    return RegistrationSpec.builder().service(service).host("10.2.0.1").port(port).ttlSeconds(60).build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void keepsServingWhenTheServerStopsThenReconnectsAndReRegisters(@TempDir Path data) {
    TestServer server = track(TestServer.start(data));
    LodestarClient owner = client(server.address(), null);
    LodestarClient watcher = client(server.address(), null);
    List<ClientStatus.State> seen = new CopyOnWriteArrayList<>();
    watcher.addStatusListener(s -> seen.add(s.state()));

    owner.register(spec("pay", 1));
    owner.register(spec("pay", 2));
    await().until(() -> watcher.getInstances(NS, "pay").size() == 2);

    server.stop();
    await().until(() -> watcher.status().state() == ClientStatus.State.DISCONNECTED_SERVING_CACHE);
    assertThat(owner.status().state()).isIn(ClientStatus.State.DISCONNECTED_SERVING_CACHE);
    assertThat(watcher.status().detail()).isNotEmpty();
    // the cache is kept: lists, healthy lists and picks still work
    assertThat(watcher.getInstances(NS, "pay")).hasSize(2);
    assertThat(watcher.getHealthyInstances(NS, "pay")).hasSize(2);
    assertThat(watcher.selectOne(NS, "pay").host()).isEqualTo("10.2.0.1");

    server.restart();  // same port, same data dir
    await().until(() -> owner.status().isConnected() && watcher.status().isConnected());
    await().untilAsserted(() -> assertThat(seen).containsSubsequence(ClientStatus.State.DISCONNECTED_SERVING_CACHE,
        ClientStatus.State.CONNECTED));
    LodestarClient fresh = client(server.address(), null);
    await().untilAsserted(() -> assertThat(fresh.getInstances(NS, "pay"))
        .extracting(Instance::id, Instance::health, Instance::owner)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("10.2.0.1:1", Instance.Health.HEALTHY, owner.clientId()),
            org.assertj.core.groups.Tuple.tuple("10.2.0.1:2", Instance.Health.HEALTHY, owner.clientId())));
    // and the subscription is live again: a change reaches the watcher
    owner.deregister(NS, "pay", "10.2.0.1:1");
    await().until(() -> watcher.getInstances(NS, "pay").size() == 1);
  }

  /** A server that comes back without its state: only re-registration can bring the instance back. */
  @Test
  void reRegistersWithTheSameIdsOnAServerThatLostItsState(@TempDir Path data, @TempDir Path emptyData) {
    TestServer first = track(TestServer.start(data));
    LodestarClient owner = client(first.address(), null);
    Instance registered = owner.register(RegistrationSpec.builder().service("inv").host("10.2.0.9").port(7)
        .id("inv-1").ttlSeconds(60).build());
    first.stop();
    await().until(() -> owner.status().state() == ClientStatus.State.DISCONNECTED_SERVING_CACHE);

    TestServer second = track(TestServer.startOn(emptyData, first.port()));
    await().until(() -> owner.status().isConnected());
    LodestarClient observer = client(second.address(), null);
    await().untilAsserted(() -> assertThat(observer.getInstances(NS, "inv")).singleElement()
        .satisfies(i -> {
          assertThat(i.id()).isEqualTo(registered.id());
          assertThat(i.owner()).isEqualTo(owner.clientId());
        }));
    // the owner's own subscription, resubscribed from an unknown revision, converges too
    await().until(() -> owner.getInstances(NS, "inv").size() == 1);
  }

  @Test
  void startsWithNoReachableServerAndServesTheCacheDirThenGoesLive(@TempDir Path data, @TempDir Path cacheDir)
      throws Exception {
    // 1. A client with a cache dir learns a list from a live server and writes it on close.
    try (TestServer server = TestServer.start(data)) {
      LodestarClient owner = client(server.address(), null);
      owner.register(spec("orders", 1));
      owner.register(spec("orders", 2));
      try (LodestarClient writer = LodestarClient.builder().servers(server.address()).cacheDir(cacheDir).build()) {
        await().until(() -> writer.getInstances(NS, "orders").size() == 2);
      }
      owner.close();
    }
    try (var files = Files.walk(cacheDir)) {
      assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
          .containsExactly("orders" + DiskCache.SUFFIX);
    }

    // 2. A new client whose only server is down serves the list from disk, and says so.
    int port = freePort();
    LodestarClient offline = client("127.0.0.1:" + port, cacheDir);
    assertThat(offline.getInstances(NS, "orders")).extracting(Instance::id)
        .containsExactly("10.2.0.1:1", "10.2.0.1:2");
    assertThat(offline.selectOne(NS, "orders").host()).isEqualTo("10.2.0.1");
    assertThat(offline.status().state()).isEqualTo(ClientStatus.State.DISCONNECTED_SERVING_CACHE);
    BlockingQueue<ServiceEvent> events = new LinkedBlockingQueue<>();
    offline.subscribe(NS, "orders", events::add);
    ServiceEvent cached = NamingIntegrationTest.poll(events);
    assertThat(cached.fromCache()).isTrue();
    assertThat(cached.instances()).hasSize(2);

    // 3. When a server appears on that address, the live list replaces the cached one.
    TestServer live = track(TestServer.startOn(data, port));
    LodestarClient newOwner = client(live.address(), null);
    newOwner.register(spec("orders", 3));
    await().until(() -> offline.status().isConnected());
    await().untilAsserted(() -> assertThat(offline.getInstances(NS, "orders")).extracting(Instance::id)
        .containsExactly("10.2.0.1:3"));
    // The listener saw the move from the cached list to the live one as differences.
    List<String> removed = new ArrayList<>();
    List<String> added = new ArrayList<>();
    ServiceEvent ev;
    do {
      ev = NamingIntegrationTest.poll(events);
      assertThat(ev.fromCache()).isFalse();
      ev.removed().forEach(i -> removed.add(i.id()));
      ev.added().forEach(i -> added.add(i.id()));
    } while (!ev.instances().stream().map(Instance::id).toList().equals(List.of("10.2.0.1:3")));
    assertThat(removed).containsExactlyInAnyOrder("10.2.0.1:1", "10.2.0.1:2");
    assertThat(added).containsExactly("10.2.0.1:3");
  }

  @Test
  void aServiceNeverSeenFailsAfterTheTimeoutWhenNoServerIsReachable(@TempDir Path cacheDir) throws Exception {
    LodestarClient offline = track(LodestarClient.builder().servers("127.0.0.1:" + freePort()).cacheDir(cacheDir)
        .requestTimeout(Duration.ofMillis(300)).build());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> offline.getInstances(NS, "unknown"))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("timeout"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> offline.register(spec("x", 1)))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("timeout"));
  }
}
