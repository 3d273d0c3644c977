package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/** Real server, real SDK, on loopback; each test uses its own service names. */
class NamingIntegrationTest {
  @TempDir
  static Path dataDir;
  static TestServer server;

  private final List<LodestarClient> clients = new ArrayList<>();
  private String svc;

  @BeforeAll
  static void startServer() {
    server = TestServer.start(dataDir);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @org.junit.jupiter.api.BeforeEach
  void name(TestInfo info) {
    svc = info.getTestMethod().orElseThrow().getName();
  }

  @AfterEach
  void closeClients() {
    clients.forEach(LodestarClient::close);
  }

  LodestarClient client() {
    LodestarClient c = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
    clients.add(c);
    return c;
  }

  static RegistrationSpec.Builder spec(String service, int port) {
    return RegistrationSpec.builder().service(service).host("10.1.0.1").port(port).ttlSeconds(60);
  }

  /** An operator's PATCH over REST, as the console and curl send it. */
  private static int patch(String svc, String id, String body) throws Exception {
    var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + server.address()
        + "/v1/namespaces/default/services/" + svc + "/instances/" + id))
        .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
    return http.send(req, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void isolatedInstanceLeavesDiscoveryAndAWeightEditArrives() throws Exception {
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(spec(svc, 8080).build());
    a.register(spec(svc, 8081).build());
    await().until(() -> b.getHealthyInstances("default", svc).size() == 2);
    assertThat(patch(svc, "10.1.0.1:8080", "{\"isolated\":true}")).isEqualTo(200);
    await().untilAsserted(() -> assertThat(b.getHealthyInstances("default", svc)).extracting(Instance::id)
        .containsExactly("10.1.0.1:8081"));
    assertThat(b.getInstances("default", svc)).filteredOn(Instance::isolated).extracting(Instance::id)
        .containsExactly("10.1.0.1:8080");
    for (int k = 0; k < 20; k++) {
      assertThat(b.selectOne("default", svc).id()).isEqualTo("10.1.0.1:8081");
    }
    assertThat(patch(svc, "10.1.0.1:8080", "{\"isolated\":false,\"weight\":5}")).isEqualTo(200);
    await().untilAsserted(() -> assertThat(b.getHealthyInstances("default", svc))
        .filteredOn(i -> i.id().equals("10.1.0.1:8080")).singleElement()
        .satisfies(i -> assertThat(i.weight()).isEqualTo(5)));
  }

  /** A drain by weight 0 survives the SDK registering again what it holds (as after a reconnect). */
  @Test
  void anOperatorsWeightHoldsWhenTheSdkRegistersAgain() throws Exception {
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(spec(svc, 8080).weight(7).build());
    assertThat(patch(svc, "10.1.0.1:8080", "{\"weight\":0}")).isEqualTo(200);
    await().untilAsserted(() -> assertThat(b.getInstances("default", svc)).singleElement().satisfies(i -> {
      assertThat(i.weight()).isZero();
      assertThat(i.registeredWeight()).hasValue(7); // what it gets back, seen by every SDK
    }));
    assertThat(b.fetch("default", svc).instances()).singleElement()
        .satisfies(i -> assertThat(i.registeredWeight()).hasValue(7));
    Instance again = a.register(spec(svc, 8080).weight(7).build());
    assertThat(again.weight()).isZero();
    assertThat(again.weightSetByOperator()).isTrue(); // why the answer's weight is not the one sent
    assertThat(patch(svc, "10.1.0.1:8080", "{\"restoreWeight\":true}")).isEqualTo(200);
    await().untilAsserted(() -> assertThat(b.getInstances("default", svc)).singleElement().satisfies(i -> {
      assertThat(i.weight()).isEqualTo(7);
      assertThat(i.registeredWeight()).isEmpty();
    }));
  }

  @Test
  void registeredInstanceIsVisibleToAnotherClient() {
    LodestarClient a = client();
    LodestarClient b = client();
    Instance registered = a.register(spec(svc, 8080).putMetadata("zone", "z1").weight(7).build());
    assertThat(registered.id()).isEqualTo("10.1.0.1:8080");
    assertThat(registered.owner()).isEqualTo(a.clientId());
    assertThat(registered.health()).isEqualTo(Instance.Health.HEALTHY);
    assertThat(registered.metadata()).isEqualTo(java.util.Map.of("zone", "z1")); // the answer leaves them out
    assertThat(registered.weight()).isEqualTo(7);

    await().untilAsserted(() -> assertThat(b.getInstances("default", svc)).singleElement().satisfies(i -> {
      assertThat(i.id()).isEqualTo("10.1.0.1:8080");
      assertThat(i.metadata()).containsEntry("zone", "z1");
      assertThat(i.weight()).isEqualTo(7);
    }));
    assertThat(b.getHealthyInstances("default", svc)).hasSize(1);
    assertThat(b.selectOne("default", svc).id()).isEqualTo("10.1.0.1:8080");
    assertThat(a.status().state()).isEqualTo(ClientStatus.State.CONNECTED);
  }

  @Test
  void triesEachListedServerInTurn() throws Exception {
    int dead;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    LodestarClient c = LodestarClient.builder().servers("127.0.0.1:" + dead, server.address())
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100)).build();
    clients.add(c);
    assertThat(c.register(spec(svc, 1).build()).id()).isEqualTo("10.1.0.1:1");
    assertThat(c.status().state()).isEqualTo(ClientStatus.State.CONNECTED);
    assertThat(c.status().server()).isEqualTo(server.address());
  }

  @Test
  void explicitIdsAndNamespacesAreKept() {
    LodestarClient a = client();
    Instance i = a.register(spec(svc, 1).id("node-1").build());
    assertThat(i.id()).isEqualTo("node-1");
    assertThat(i.namespace()).isEqualTo("default");
  }

  @Test
  void serverRefusalsCarryCodeAndField() {
    LodestarClient a = client();
    assertThatThrownBy(() -> a.register(spec(svc, 1).namespace("no-such-namespace").build()))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
    assertThatThrownBy(() -> a.deregister("default", svc, "never-registered"))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
  }

  @Test
  void unknownServiceHasAnEmptyListThenLearnsOfInstances() {
    LodestarClient b = client();
    assertThat(b.getInstances("default", svc)).isEmpty();
    assertThatThrownBy(() -> b.selectOne("default", svc))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("no_instance"));
    client().register(spec(svc, 9000).build());
    await().until(() -> b.getInstances("default", svc).size() == 1);
  }

  @Test
  void subscriberGetsTheSnapshotThenEachDifference() throws Exception {
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(spec(svc, 1).build());
    BlockingQueue<ServiceEvent> events = new LinkedBlockingQueue<>();
    b.subscribe("default", svc, events::add);

    ServiceEvent first = poll(events);
    assertThat(first.instances()).extracting(Instance::id).containsExactly("10.1.0.1:1");
    assertThat(first.added()).extracting(Instance::id).containsExactly("10.1.0.1:1");
    assertThat(first.removed()).isEmpty();
    assertThat(first.fromCache()).isFalse();

    a.register(spec(svc, 2).build());
    ServiceEvent joined = poll(events);
    assertThat(joined.added()).extracting(Instance::id).containsExactly("10.1.0.1:2");
    assertThat(joined.removed()).isEmpty();
    assertThat(joined.instances()).hasSize(2);
    assertThat(joined.revision()).isGreaterThan(first.revision());

    a.register(spec(svc, 2).weight(50).build());
    ServiceEvent changed = poll(events);
    assertThat(changed.changed()).extracting(Instance::weight).containsExactly(50);
    assertThat(changed.added()).isEmpty();

    a.deregister("default", svc, "10.1.0.1:1");
    ServiceEvent left = poll(events);
    assertThat(left.removed()).extracting(Instance::id).containsExactly("10.1.0.1:1");
    assertThat(left.added()).isEmpty();
    assertThat(left.instances()).extracting(Instance::id).containsExactly("10.1.0.1:2");

    b.unsubscribe("default", svc, events::add);  // a different lambda instance: no effect
    a.register(spec(svc, 3).build());
    assertThat(poll(events).added()).extracting(Instance::id).containsExactly("10.1.0.1:3");
  }

  @Test
  void fetchReadsTheServerWithoutSubscribing() {
    LodestarClient a = client();
    LodestarClient b = client();
    assertThat(b.fetch("default", svc).instances()).isEmpty();
    a.register(spec(svc, 1).build());
    a.register(spec(svc, 2).build());
    ServiceSnapshot fetched = b.fetch("default", svc);
    // registrations are acknowledged once applied, so a later fetch sees both at once
    assertThat(fetched.instances()).extracting(Instance::id).containsExactlyInAnyOrder("10.1.0.1:1", "10.1.0.1:2");
    assertThat(fetched.revision()).isPositive();
    a.deregister("default", svc, "10.1.0.1:1");
    assertThat(b.fetch("default", svc).instances()).extracting(Instance::id).containsExactly("10.1.0.1:2");
    assertThatThrownBy(() -> b.fetch("no-such-namespace", svc))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
    assertThatThrownBy(() -> b.fetch("default", "bad name!")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void fetchDecodesEveryFieldAsTheSubscriptionDoes() throws Exception {
    // a fetch's answer is decoded by the SDK's own reader, a pushed list by protobuf: they must agree
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(spec(svc, 1).weight(0).protocol("grpc").metadata(Map.of("zone", "z1", "version", "2")).build());
    a.register(spec(svc, 2).metadata(Map.of("zone", "z1", "version", "2")).build());
    a.register(RegistrationSpec.builder().service(svc).host("10.1.0.1").port(3).weight(250).persistent(true).build());
    assertThat(patch(svc, "10.1.0.1:2", "{\"isolated\":true}")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      ServiceSnapshot fetched = b.fetch("default", svc);
      assertThat(fetched.instances()).hasSize(3).containsExactlyElementsOf(b.getInstances("default", svc));
      assertThat(fetched.instances().get(1).isolated()).isTrue();
      assertThat(fetched.revision()).isEqualTo(b.snapshot("default", svc).revision());
    });
  }

  @Test
  void unsubscribedListenerHearsNothingMore() throws Exception {
    LodestarClient a = client();
    LodestarClient b = client();
    BlockingQueue<ServiceEvent> stopped = new LinkedBlockingQueue<>();
    BlockingQueue<ServiceEvent> kept = new LinkedBlockingQueue<>();
    ServiceListener stoppedListener = stopped::add;
    b.subscribe("default", svc, stoppedListener);
    b.subscribe("default", svc, kept::add);
    assertThat(poll(stopped).instances()).isEmpty();
    assertThat(poll(kept).instances()).isEmpty();
    b.unsubscribe("default", svc, stoppedListener);
    a.register(spec(svc, 1).build());
    assertThat(poll(kept).added()).hasSize(1);
    assertThat(stopped).isEmpty();
  }

  @Test
  void listenerIsNeverCalledConcurrentlyAndSeesRevisionsInOrder() throws Exception {
    LodestarClient a = client();
    LodestarClient b = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30))
        .listenerExecutor(java.util.concurrent.Executors.newFixedThreadPool(4)).build();
    clients.add(b);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<Long> revisions = java.util.Collections.synchronizedList(new ArrayList<>());
    b.subscribe("default", svc, ev -> {
      if (inside.incrementAndGet() > 1) {
        overlaps.incrementAndGet();
      }
      revisions.add(ev.revision());
      inside.decrementAndGet();
    });
    // Without this, b's stream may connect after all 20 registrations and see one snapshot only.
    await().atMost(java.time.Duration.ofSeconds(30)).until(() -> !revisions.isEmpty());
    int n = 20;
    for (int k = 1; k <= n; k++) {
      a.registerAsync(spec(svc, k).build());
    }
    await().atMost(java.time.Duration.ofSeconds(30)).until(() -> b.getInstances("default", svc).size() == n);
    await().atMost(java.time.Duration.ofSeconds(30)).until(() -> revisions.size() > 1 && revisions.get(revisions.size() - 1)
        == b.snapshot("default", svc).revision());
    assertThat(overlaps).hasValue(0);
    assertThat(revisions).isSorted();
  }

  @Test
  void cleanCloseDeregistersAtOnce() {
    LodestarClient a = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
    LodestarClient b = client();
    a.register(spec(svc, 1).build());  // ttl 60 s: only the Goodbye can remove it in time
    a.register(spec(svc, 2).build());
    await().until(() -> b.getInstances("default", svc).size() == 2);
    a.close();
    a.close();  // idempotent
    assertThat(a.status().state()).isEqualTo(ClientStatus.State.CLOSED);
    await().atMost(Duration.ofSeconds(30)).until(() -> b.getInstances("default", svc).isEmpty());
    assertThatThrownBy(() -> a.register(spec(svc, 3).build()))
        .isInstanceOfSatisfying(LodestarClientException.class, e -> assertThat(e.code()).isEqualTo("closed"));
  }

  /**
   * The stream's heartbeats (every Welcome.heartbeat_interval_ms, 3 s on this server) renew the
   * instance: with a 5 s TTL it would be UNHEALTHY after 5 s without them.
   */
  @Test
  void heartbeatsKeepAnInstanceHealthyBeyondItsTtl() {
    staysHealthy(5, Duration.ofSeconds(8));
  }

  /**
   * The server asks for a heartbeat every 3 s whatever the TTL, and accepts TTLs from 1 s: an
   * instance with a 2 s TTL is kept healthy only because the SDK heartbeats at a third of it.
   */
  @Test
  void aTtlShorterThanTheServersHeartbeatIntervalIsRenewedInTime() {
    staysHealthy(2, Duration.ofSeconds(7));
  }

  /** One client registers with {@code ttlSeconds}; another sees it HEALTHY throughout {@code during}. */
  private void staysHealthy(int ttlSeconds, Duration during) {
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(RegistrationSpec.builder().service(svc).host("10.1.0.1").port(1).ttlSeconds(ttlSeconds).build());
    await().until(() -> b.getInstances("default", svc).size() == 1);
    await().during(during).atMost(during.plusSeconds(4)).until(() ->
        b.getHealthyInstances("default", svc).size() == 1
            && b.getInstances("default", svc).get(0).health() == Instance.Health.HEALTHY);
  }

  @Test
  void deregisterRemovesAndIsNotUndoneLater() {
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(spec(svc, 1).build());
    await().until(() -> b.getInstances("default", svc).size() == 1);
    a.deregister("default", svc, "10.1.0.1:1");
    await().until(() -> b.getInstances("default", svc).isEmpty());
  }

  @Test
  void selectOneFollowsWeights() {
    LodestarClient a = client();
    LodestarClient b = client();
    a.register(spec(svc, 1).weight(1).build());
    a.register(spec(svc, 3).weight(3).build());
    await().until(() -> b.getInstances("default", svc).size() == 2);
    Map<String, Integer> counts = new HashMap<>();
    int picks = 40_000;
    for (int k = 0; k < picks; k++) {
      counts.merge(b.selectOne("default", svc).id(), 1, Integer::sum);
    }
    // ThreadLocalRandom: the standard deviation of each share is 0.2 %; ±2 % is 9 of them.
    assertThat(counts.get("10.1.0.1:1") / (double) picks).isCloseTo(0.25, org.assertj.core.api.Assertions.within(0.02));
    assertThat(counts.get("10.1.0.1:3") / (double) picks).isCloseTo(0.75, org.assertj.core.api.Assertions.within(0.02));
  }

  static ServiceEvent poll(BlockingQueue<ServiceEvent> q) throws InterruptedException {
    ServiceEvent e = q.poll(10, TimeUnit.SECONDS);
    assertThat(e).as("an event within 10 s").isNotNull();
    return e;
  }
}
