package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Goodbye;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.RegisterRequest;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.api.v1.SubscribeRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK stream spoken raw: pushes in order without gaps, clean close versus broken stream. Leases
 * run on a manual clock: a test moves time and runs a scan ({@link #pass}) instead of waiting out TTLs.
 */
class StreamTest {
  @TempDir static Path dir;
  static final java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
  static LodestarServer server;
  static Http http;
  static NamingGrpc.NamingStub stub;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).nanoClock(clock::get).build().start();
    http = new Http(server.port());
    stub = GrpcClients.newClient("http://127.0.0.1:" + server.port(), NamingGrpc.NamingStub.class);
  }

  /** Moves the lease clock on and runs one scan; its transitions are applied when this returns. */
  static void pass(Duration d) {
    clock.addAndGet(d.toNanos());
    server.scanHealth();
  }

  /**
   * A heartbeat on {@code c}'s stream, handled by the server when this returns: a stream's messages
   * are handled in order, and a fetch sent behind it has been answered.
   */
  static void heartbeat(RawClient c, long rid, String svc) {
    c.send(ClientMessage.newBuilder().setHeartbeat(io.lodestar.api.v1.Heartbeat.getDefaultInstance()).build());
    c.send(ClientMessage.newBuilder().setRequestId(rid).setFetch(io.lodestar.api.v1.FetchRequest.newBuilder()
        .setService(svc)).build());
    await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == rid));
  }

  /**
   * A periodic check's worth of heartbeats on {@code c}'s stream (the last one is due to check),
   * handled when this returns; {@code rid} holds the next request id and moves on.
   */
  static void checkRound(RawClient c, long[] rid, String svc) {
    for (int i = 0; i < 10; i++) {
      heartbeat(c, rid[0]++, svc);
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** A raw client: records every message; applies updates to a local copy, checking the protocol. */
  static final class RawClient implements ClientResponseObserver<ClientMessage, ServerMessage> {
    final List<ServerMessage> received = new CopyOnWriteArrayList<>();
    final Map<String, Instance> state = new TreeMap<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    volatile long revision = -1;
    volatile boolean done;
    ClientCallStreamObserver<ClientMessage> out;

    static RawClient connect(String clientId) {
      RawClient c = new RawClient();
      StreamObserver<ClientMessage> o = stub.connect(c);
      c.send(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId(clientId)).build());
      await().until(() -> c.received.stream().anyMatch(ServerMessage::hasWelcome));
      return c;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ClientMessage> requestStream) {
      this.out = requestStream;
    }

    synchronized void send(ClientMessage m) {
      out.onNext(m);
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
        u.getInstancesList().forEach(i -> state.put(i.getId(), i));
      } else {
        if (u.getBaseRevision() != revision) {
          violations.add("delta from " + u.getBaseRevision() + " while at " + revision);
        }
        u.getRemovedIdsList().forEach(state::remove);
        u.getInstancesList().forEach(i -> state.put(i.getId(), i));
      }
      if (u.getRevision() < revision) {
        violations.add("revision went back from " + revision + " to " + u.getRevision());
      }
      revision = u.getRevision();
    }

    @Override
    public void onError(Throwable t) {
      done = true;
    }

    @Override
    public void onCompleted() {
      done = true;
    }

    synchronized Set<String> ids() {
      return new HashSet<>(state.keySet());
    }
  }

  private static Set<String> restIds(String svc) {
    Set<String> ids = new HashSet<>();
    for (JsonNode i : http.get("/v1/namespaces/default/services/" + svc + "/instances").json().get("instances")) {
      ids.add(i.get("id").asText());
    }
    return ids;
  }

  @Test
  void subscribersSeeEveryChangeInOrderWithoutGaps() throws Exception {
    RawClient sub = RawClient.connect("watcher-1");
    RawClient sub2 = RawClient.connect("watcher-2");
    for (RawClient c : List.of(sub, sub2)) {
      c.send(ClientMessage.newBuilder().setSubscribe(SubscribeRequest.newBuilder().setNamespace("default")
          .setService("burst")).build());
    }
    await().until(() -> sub.revision >= 0 && sub2.revision >= 0);

    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<java.util.concurrent.Future<?>> writes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      int n = i;
      writes.add(pool.submit(() -> {
        http.post("/v1/namespaces/default/services/burst/instances", "{\"id\":\"i" + n + "\",\"host\":\"h\",\"port\":"
            + (1 + n) + ",\"ttlSeconds\":3600}");
        if (n % 3 == 0) {
          http.delete("/v1/namespaces/default/services/burst/instances/i" + n);
        }
      }));
    }
    for (var f : writes) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    Set<String> expected = restIds("burst");
    assertThat(expected).hasSize(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> sub.ids().equals(expected) && sub2.ids().equals(expected));
    assertThat(sub.violations).isEmpty();
    assertThat(sub2.violations).isEmpty();
    long rest = http.get("/v1/namespaces/default/services/burst/instances").json().get("revision").asLong();
    await().until(() -> sub.revision == rest);
  }

  @Test
  void resubscribingWithTheCurrentRevisionGetsAnEmptyDelta() {
    http.post("/v1/namespaces/default/services/resub/instances", "{\"host\":\"h\",\"port\":1,\"ttlSeconds\":3600}");
    long rev = http.get("/v1/namespaces/default/services/resub/instances").json().get("revision").asLong();
    RawClient c = RawClient.connect("resub");
    c.revision = rev;
    c.send(ClientMessage.newBuilder().setSubscribe(SubscribeRequest.newBuilder().setNamespace("default")
        .setService("resub").setKnownRevision(rev)).build());
    await().until(() -> c.received.stream().anyMatch(ServerMessage::hasUpdate));
    ServiceUpdate u = c.received.stream().filter(ServerMessage::hasUpdate).findFirst().get().getUpdate();
    assertThat(u.getSnapshot()).isFalse();
    assertThat(u.getBaseRevision()).isEqualTo(rev);
    assertThat(u.getRevision()).isEqualTo(rev);
    assertThat(u.getInstancesList()).isEmpty();
    // a stale revision gets a full snapshot
    RawClient stale = RawClient.connect("stale");
    stale.send(ClientMessage.newBuilder().setSubscribe(SubscribeRequest.newBuilder().setNamespace("default")
        .setService("resub").setKnownRevision(rev - 1)).build());
    await().until(() -> stale.received.stream().anyMatch(ServerMessage::hasUpdate));
    assertThat(stale.received.stream().filter(ServerMessage::hasUpdate).findFirst().get().getUpdate().getSnapshot())
        .isTrue();
  }

  private static void deregister(RawClient c, long rid, String svc, String id) {
    c.send(ClientMessage.newBuilder().setRequestId(rid).setDeregister(io.lodestar.api.v1.DeregisterRequest.newBuilder()
        .setNamespace("default").setService(svc).setInstanceId(id)).build());
    await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == rid));
    assertThat(c.received.stream().filter(m -> m.getRequestId() == rid).findFirst().get().hasAck()).isTrue();
  }

  private static void register(RawClient c, long rid, String svc, String id, int ttl) {
    c.send(ClientMessage.newBuilder().setRequestId(rid).setRegister(RegisterRequest.newBuilder()
        .setNamespace("default").setService(svc).setInstance(Instance.newBuilder().setId(id).setHost("127.0.0.1")
            .setPort(9000).setTtlSeconds(ttl))).build());
    await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == rid));
    assertThat(c.received.stream().filter(m -> m.getRequestId() == rid).findFirst().get().hasRegistered()).isTrue();
  }

  @Test
  void aRegisterAnswerLeavesOutTheMetadataSentOnlyWhenAskedTo() {
    RawClient c = RawClient.connect("answers");
    for (boolean without : new boolean[] {false, true}) {
      long rid = without ? 2 : 1;
      c.send(ClientMessage.newBuilder().setRequestId(rid).setRegister(RegisterRequest.newBuilder()
          .setNamespace("default").setService("answers").setAnswerWithoutMetadata(without)
          .setInstance(Instance.newBuilder().setId("a" + rid).setHost("127.0.0.1").setPort(9000)
              .putMetadata("zone", "z1").putMetadata("version", "1.4"))).build());
      await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == rid));
      Instance got = c.received.stream().filter(m -> m.getRequestId() == rid).findFirst().get()
          .getRegistered().getInstance();
      assertThat(got.getId()).isEqualTo("a" + rid);
      assertThat(got.getOwner()).isEqualTo("answers");
      assertThat(got.getRevision()).isPositive();
      assertThat(got.getMetadataMap()).isEqualTo(without ? java.util.Map.of()
          : java.util.Map.of("zone", "z1", "version", "1.4"));
    }
    // stored as sent either way
    JsonNode stored = http.get("/v1/namespaces/default/services/answers/instances").json().get("instances");
    assertThat(stored).hasSize(2).allSatisfy(i -> {
      assertThat(i.get("metadata").get("zone").asText()).isEqualTo("z1");
      assertThat(i.get("metadata").get("version").asText()).isEqualTo("1.4");
    });
  }

  @Test
  void cleanCloseDeregistersAtOnce() {
    RawClient c = RawClient.connect("leaving");
    register(c, 1, "close", "mine", 3600);
    assertThat(restIds("close")).containsExactly("mine");
    c.send(ClientMessage.newBuilder().setGoodbye(Goodbye.getDefaultInstance()).build());
    c.out.onCompleted();
    // TTL is an hour: only the clean close can remove it
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("close").isEmpty());
  }

  @Test
  void brokenStreamLeavesInstancesToTheirTtl() {
    RawClient c = RawClient.connect("crashing");
    register(c, 1, "broken", "mine", 1);
    c.out.cancel("simulated crash", null);
    // still there right after the break, then unhealthy once the TTL passed, then gone after 3 × TTL
    assertThat(restIds("broken")).containsExactly("mine");
    pass(Duration.ofMillis(1500));
    JsonNode list = http.get("/v1/namespaces/default/services/broken/instances").json().get("instances");
    assertThat(list).hasSize(1);
    assertThat(list.get(0).get("health").asText()).isEqualTo("UNHEALTHY");
    pass(Duration.ofMillis(2000));
    assertThat(restIds("broken")).isEmpty();
  }

  @Test
  void streamHeartbeatsKeepOwnedInstancesAlive() {
    RawClient alive = RawClient.connect("beating");
    register(alive, 1, "hb", "alive", 1);
    RawClient silent = RawClient.connect("silent");
    register(silent, 1, "hb", "silent", 1);
    // four TTL-long steps, a heartbeat from one stream before each: the silent one goes, the other stays
    for (int step = 0; step < 4; step++) {
      heartbeat(alive, 100 + step, "hb");
      pass(Duration.ofMillis(900));
    }
    assertThat(restIds("hb")).containsExactly("alive");
    JsonNode list = http.get("/v1/namespaces/default/services/hb/instances").json().get("instances");
    assertThat(list).hasSize(1);
    assertThat(list.get(0).get("id").asText()).isEqualTo("alive");
    assertThat(list.get(0).get("health").asText()).isEqualTo("HEALTHY");
    // a clean close: no lease left to expire under the other tests' clock moves
    alive.out.onCompleted();
    silent.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("hb").isEmpty());
  }

  @Test
  void aStreamHeartbeatRevivesAnInstanceWhoseLeaseLapsedAtTheNextScan() {
    RawClient slow = RawClient.connect("slow");
    register(slow, 1, "revive", "late", 1);
    pass(Duration.ofMillis(1500)); // past one TTL: lapsed, not yet removed
    JsonNode lapsed = http.get("/v1/namespaces/default/services/revive/instances").json().get("instances");
    assertThat(lapsed.get(0).get("health").asText()).isEqualTo("UNHEALTHY");
    // the stream's heartbeat renews it; the next scan, long before any deadline of the last one,
    // marks it healthy (a renewal of a lapsed lease is what makes that scan look)
    heartbeat(slow, 2, "revive");
    pass(Duration.ofMillis(100));
    JsonNode revived = http.get("/v1/namespaces/default/services/revive/instances").json().get("instances");
    assertThat(revived.get(0).get("health").asText()).isEqualTo("HEALTHY");
    slow.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("revive").isEmpty());
  }

  @Test
  void aHeartbeatAfterALongSilenceReassertsInstancesThatExpiredMeanwhile() {
    RawClient paused = RawClient.connect("paused");
    register(paused, 1, "pause", "a", 1);
    register(paused, 2, "pause", "b", 1);
    // silent (a long GC pause, a frozen VM) for longer than 3 × TTL: both expire and go
    pass(Duration.ofMillis(1500));
    pass(Duration.ofMillis(2000));
    assertThat(restIds("pause")).isEmpty();
    // the stream is still open; its next heartbeat puts both back at once
    paused.send(ClientMessage.newBuilder().setHeartbeat(io.lodestar.api.v1.Heartbeat.getDefaultInstance()).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("pause").equals(Set.of("a", "b")));
    paused.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("pause").isEmpty());
  }

  /**
   * An operator's weight ends with the instance (docs/api.md): what a stream re-asserts once its
   * instance is gone is the weight it registered with, even when it last registered while the
   * operator's weight was in force (its answer, and what the stream holds, carried both).
   */
  @Test
  void aReassertionOfARemovedInstanceCarriesTheRegisteredWeightNotTheOperators() {
    RawClient c = RawClient.connect("weighed");
    registerWeighing(c, 1, 7);
    assertThat(http.patch("/v1/namespaces/default/services/weighed/instances/a", "{\"weight\":0}").status())
        .isEqualTo(200);
    // registered again while the drain holds (as after a reconnect): answered as held, weight 0
    assertThat(registerWeighing(c, 2, 7).getWeight()).isZero();
    // removed behind the stream's back: its next periodic check registers it again
    http.delete("/v1/namespaces/default/services/weighed/instances/a");
    assertThat(restIds("weighed")).isEmpty();
    checkRound(c, new long[] {100}, "weighed");
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("weighed").equals(Set.of("a")));
    JsonNode a = http.get("/v1/namespaces/default/services/weighed/instances").json().get("instances").get(0);
    assertThat(a.get("weight").asInt()).isEqualTo(7);
    assertThat(a.has("registeredWeight")).isFalse();
    c.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("weighed").isEmpty());
  }

  private static Instance registerWeighing(RawClient c, long rid, int weight) {
    c.send(ClientMessage.newBuilder().setRequestId(rid).setRegister(RegisterRequest.newBuilder()
        .setNamespace("default").setService("weighed").setInstance(Instance.newBuilder().setId("a")
            .setHost("127.0.0.1").setPort(9000).setTtlSeconds(30).setWeight(weight))).build());
    await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == rid));
    return c.received.stream().filter(m -> m.getRequestId() == rid).findFirst().orElseThrow()
        .getRegistered().getInstance();
  }

  @Test
  void aStreamsPeriodicCheckSkipsWhileNothingChangedAndStillReassertsWhatWasRemovedBehindItsBack() {
    RawClient c = RawClient.connect("checker");
    register(c, 1, "recheck", "a", 30);
    register(c, 2, "recheck", "b", 30);
    long rid = 100;
    // two rounds of a full check's heartbeats with nothing changed: the first checks, the second may skip
    for (int i = 0; i < 2 * 10; i++) {
      heartbeat(c, rid++, "recheck");
    }
    assertThat(restIds("recheck")).isEqualTo(Set.of("a", "b"));
    // removed behind the stream's back (an operator over REST): the registry changed, so the
    // stream's next periodic check looks, finds it gone and registers it again
    http.delete("/v1/namespaces/default/services/recheck/instances/b");
    assertThat(restIds("recheck")).isEqualTo(Set.of("a"));
    for (int i = 0; i < 10; i++) {
      heartbeat(c, rid++, "recheck");
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("recheck").equals(Set.of("a", "b")));
    c.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("recheck").isEmpty());
  }

  @Test
  void instancesAddedElsewhereGiveAStreamsPeriodicCheckNothingToLookAtAndAReplacementOnlyItsOwnersCheck() {
    RawClient c = RawClient.connect("steady");
    register(c, 1, "steady", "a", 30);
    long[] rid = {100};
    RawClient other = RawClient.connect("adder");
    int[] added = {0};
    // a full check's heartbeats with new instances registered by another stream meanwhile, in a
    // service that exists and in a new one (as while 100,000 register), and that stream's
    // deregistration of one of its own (as bench compare's W2 writer does before its fill): nothing this stream owns, so no check. (Other
    // tests' leftover leases lapse at scans of their own; a round they disturb is tried again.)
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      checkRound(c, rid, "steady"); // settles: the stream's own registration moved the epoch
      double checked = leaseChecks();
      register(other, ++added[0], "steady", "b" + added[0], 30);
      register(other, ++added[0], "fresh-" + added[0], "n", 30); // a service of its own, new
      deregister(other, ++added[0], "fresh-" + (added[0] - 1), "n"); // and its own removal of it
      checkRound(c, rid, "steady");
      assertThat(leaseChecks()).as("checks after only new instances").isEqualTo(checked);
    });
    // the other stream's instance replaced (an operator's new weight): only the stream that renews
    // its lease looks again, not this one
    long[] orid = {10_000};
    int[] weight = {50};
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      checkRound(other, orid, "steady"); // settles: its own deregistrations told it to look
      checkRound(c, rid, "steady");
      double checked = leaseChecks();
      assertThat(http.patch("/v1/namespaces/default/services/steady/instances/b1",
          "{\"weight\": " + weight[0]++ + "}").status()).isEqualTo(200);
      checkRound(c, rid, "steady");
      assertThat(leaseChecks()).as("checks after another stream's instance was replaced").isEqualTo(checked);
      checkRound(other, orid, "steady");
      assertThat(leaseChecks()).as("the owner's check after its instance was replaced").isGreaterThan(checked);
    });
    assertThat(restIds("steady")).contains("a", "b1");
    c.out.onCompleted();
    other.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("steady").isEmpty());
  }

  @Test
  void aNewStreamsFirstPeriodicCheckIsSkippedWhenNothingItRegisteredChangedSince() {
    int[] round = {0};
    // a fresh stream each round (other tests' leftover leases lapse at scans of their own and may
    // move the node's epoch; a round they disturb is tried again)
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      RawClient c = RawClient.connect("newcomer-" + ++round[0]);
      try {
        double checked = leaseChecks();
        register(c, 1, "newcomer", "a" + round[0], 30);
        register(c, 2, "newcomer", "b" + round[0], 30);
        checkRound(c, new long[] {100}, "newcomer");
        assertThat(leaseChecks()).as("checks after a new stream's first ten heartbeats").isEqualTo(checked);
      } finally {
        c.out.onCompleted();
      }
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("newcomer").isEmpty());
  }

  @Test
  void aStreamsOwnReRegistrationOfWhatItHoldsGivesItsPeriodicCheckNothingToLookAt() {
    RawClient c = RawClient.connect("reasserter");
    register(c, 1, "reassert", "a", 30);
    long[] rid = {100};
    int[] version = {0};
    // the stream registers its instance again with new metadata (a replacement, logged as any
    // write): the answer binds it and keeps the new version, so nothing is left for its check to
    // find. (Other tests' leftover leases lapse at scans of their own; a round they disturb is
    // tried again.)
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      checkRound(c, rid, "reassert"); // settles: its first registration moved the epoch
      double checked = leaseChecks();
      long r = rid[0]++;
      c.send(ClientMessage.newBuilder().setRequestId(r).setRegister(RegisterRequest.newBuilder()
          .setNamespace("default").setService("reassert").setInstance(Instance.newBuilder().setId("a")
              .setHost("127.0.0.1").setPort(9000).setTtlSeconds(30).putMetadata("v", "" + ++version[0]))).build());
      await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == r));
      assertThat(c.received.stream().filter(m -> m.getRequestId() == r).findFirst().get().getRegistered()
          .getInstance().getMetadataMap()).containsEntry("v", "" + version[0]);
      checkRound(c, rid, "reassert");
      assertThat(leaseChecks()).as("checks after the stream's own re-registration").isEqualTo(checked);
    });
    // and an operator's change of it afterwards still makes it look
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      checkRound(c, rid, "reassert");
      double checked = leaseChecks();
      assertThat(http.patch("/v1/namespaces/default/services/reassert/instances/a",
          "{\"weight\": " + (10 + ++version[0]) + "}").status()).isEqualTo(200);
      checkRound(c, rid, "reassert");
      assertThat(leaseChecks()).as("the check after an operator's change").isGreaterThan(checked);
    });
    c.out.onCompleted();
    await().atMost(Duration.ofSeconds(30)).until(() -> restIds("reassert").isEmpty());
  }

  private static double leaseChecks() {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^lodestar_stream_lease_checks_total(?:\\{[^}]*})? (\\S+)$")
        .matcher(http.get("/metrics").body());
    assertThat(m.find()).as("lodestar_stream_lease_checks_total in /metrics").isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void requestsBeforeHelloAndBadRegistrationsGetErrors() {
    RawClient c = new RawClient();
    stub.connect(c);
    c.send(ClientMessage.newBuilder().setRequestId(7).setSubscribe(SubscribeRequest.newBuilder()
        .setNamespace("default").setService("x")).build());
    await().until(() -> c.received.stream().anyMatch(m -> m.getRequestId() == 7));
    assertThat(c.received.get(0).getError().getCode()).isEqualTo("failed_precondition");
    assertThat(c.received.get(0).getError().getErrorCode()).isEqualTo(io.lodestar.api.v1.ErrorCode.FAILED_PRECONDITION);

    RawClient ok = RawClient.connect("validating");
    ok.send(ClientMessage.newBuilder().setRequestId(9).setRegister(RegisterRequest.newBuilder()
        .setNamespace("default").setService("v").setInstance(Instance.newBuilder().setHost("h").setPort(0))).build());
    await().until(() -> ok.received.stream().anyMatch(m -> m.getRequestId() == 9));
    ServerMessage err = ok.received.stream().filter(m -> m.getRequestId() == 9).findFirst().get();
    assertThat(err.getError().getField()).isEqualTo("port");
    assertThat(err.getError().getErrorCode()).isEqualTo(io.lodestar.api.v1.ErrorCode.INVALID_ARGUMENT);
    assertThat(new ConcurrentLinkedQueue<>(restIds("v"))).isEmpty();
  }
}
