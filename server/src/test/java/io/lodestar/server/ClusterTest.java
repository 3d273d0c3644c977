package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-node cluster of real processes on loopback, shared by the tests; each test starts from
 * three running members with one leader (restarting any its predecessor left down) and writes
 * its own data, so the tests run in any order. Faults: kill -9, SIGSTOP, full restart, loss of
 * the majority, membership change. What the replication itself must guarantee under partitions,
 * stalls and restarts from snapshots is checked in-process by {@code SimulatedClusterTest}, in
 * seconds; this class keeps what only real processes show (a real kill -9 and SIGSTOP, ports,
 * restarts from disk, the 503s and /health a client sees).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OneRealClusterAtATime.class)
class ClusterTest {
  private static final Duration LONG = Duration.ofSeconds(300); // as ServerProcess' start bound

  @TempDir static Path dir;
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final Map<String, ServerProcess> nodes = new LinkedHashMap<>();
  private String clusterSpec;

  @BeforeAll
  void startCluster() throws IOException {
    for (String id : List.of("n1", "n2", "n3", "n4", "n5")) {
      ports.put(id, ServerProcess.freePortPair());
    }
    clusterSpec = List.of("n1", "n2", "n3").stream().map(id -> id + "=127.0.0.1:" + ports.get(id))
        .collect(Collectors.joining(","));
    for (String id : List.of("n1", "n2", "n3")) {
      nodes.put(id, process(id, clusterSpec).startAsync());
    }
    nodes.values().forEach(ServerProcess::awaitUp);
    awaitOneLeader(List.of("n1", "n2", "n3"));
    await().atMost(LONG).ignoreExceptions().until(() -> http("n1").post("/v1/namespaces", "{\"name\":\"prod\"}")
        .status() / 100 == 2);
    // every member runs this version: the leader raises the state to its feature level (deflated restores)
    await().atMost(LONG).ignoreExceptions().until(() ->
        http("n1").get("/v1/cluster").json().get("featureLevel").asInt() == io.lodestar.core.StateMachine.FEATURE_LEVEL);
  }

  /** Three members running and agreeing on a leader, whatever the previous test left. */
  @BeforeEach
  void threeMembersUp() throws Exception {
    for (String id : List.of("n1", "n2", "n3")) {
      ServerProcess p = nodes.get(id);
      if (!p.isAlive()) {
        p.startAsync();
      }
    }
    nodes.values().forEach(ServerProcess::awaitUp);
    awaitOneLeader(List.of("n1", "n2", "n3"));
  }

  @AfterAll
  void stopCluster() throws InterruptedException, IOException {
    for (ServerProcess p : nodes.values()) {
      p.close();
    }
    // keep the nodes' logs for a post-mortem: target/cluster-logs/ClusterTest
    Path keep = Path.of("target", "cluster-logs", getClass().getSimpleName());
    Files.createDirectories(keep);
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
        Files.copy(f, keep.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private ServerProcess process(String id, String cluster, String... more) {
    List<String> args = new ArrayList<>(List.of("--node-id", id, "--cluster", cluster,
        // small snapshots and segments, so that catching up from far behind needs a snapshot
        "--snapshot-every", "200", "--raft-segment-bytes", "65536"));
    args.addAll(List.of(more));
    return new ServerProcess(ports.get(id), dir.resolve(id), args.toArray(String[]::new));
  }

  private Http http(String id) {
    return new Http(ports.get(id));
  }

  private JsonNode node(String id) {
    return http(id).get("/v1/cluster/node").json();
  }

  /** Waits until every listed node names the same leader, which is one of them; returns it. */
  private String awaitOneLeader(List<String> ids) {
    String[] leader = new String[1];
    await().atMost(LONG).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      Set<String> seen = new HashSet<>();
      int leaders = 0;
      for (String id : ids) {
        JsonNode n = node(id);
        seen.add(n.path("leader").asText(""));
        if ("leader".equals(n.path("role").asText())) {
          leaders++;
        }
      }
      leader[0] = seen.iterator().next();
      return seen.size() == 1 && ids.contains(leader[0]) && leaders == 1;
    });
    return leader[0];
  }

  private List<String> followers(String leader) {
    return nodes.keySet().stream().filter(id -> !id.equals(leader)).toList();
  }

  private static Set<String> ids(Http http, String ns, String svc) {
    Set<String> ids = new HashSet<>();
    Http.Response r = http.get("/v1/namespaces/" + ns + "/services/" + svc + "/instances");
    if (r.status() != 200) {
      return ids;
    }
    for (JsonNode i : r.json().get("instances")) {
      ids.add(i.get("id").asText());
    }
    return ids;
  }

  private static String instance(String id, int n) {
    return "{\"id\":\"" + id + "\",\"host\":\"10.0.0.1\",\"port\":" + (1000 + n % 60000) + ",\"ephemeral\":false}";
  }

  /** Writers that spread persistent registrations over the given nodes, and count what was acknowledged. */
  private final class Load implements AutoCloseable {
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final AtomicInteger appliedTwice = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();
    // each write holds it shared; pause() holds it alone: no write in flight, none starting
    final java.util.concurrent.locks.ReentrantReadWriteLock writing = new java.util.concurrent.locks.ReentrantReadWriteLock();
    final ExecutorService pool;
    final List<Future<?>> running = new ArrayList<>();

    Load(String svc, List<String> targets, int writers) {
      pool = Executors.newFixedThreadPool(writers);
      for (int w = 0; w < writers; w++) {
        int writer = w;
        running.add(pool.submit(() -> {
          for (int n = 0; !stop.get(); n++) {
            String target = targets.get((writer + n) % targets.size());
            ServerProcess p = nodes.get(target);
            if (p == null || !p.isAlive()) {
              continue;
            }
            String id = svc + "-w" + writer + "-" + n;
            writing.readLock().lock();
            try {
              Http.Response r = http(target).post("/v1/namespaces/prod/services/" + svc + "/instances",
                  instance(id, n));
              if (r.status() == 201) {
                acknowledged.add(id);
              }
              if (n % 10 == 0) {
                // not idempotent: applied twice, the caller would see already_exists
                Http.Response ns = http(target).post("/v1/namespaces", "{\"name\":\"" + id + "\"}");
                if (ns.status() == 409) {
                  appliedTwice.incrementAndGet();
                }
              }
            } catch (RuntimeException e) {
              // the node died under us: not acknowledged
            } finally {
              writing.readLock().unlock();
            }
          }
        }));
      }
    }

    /**
     * Runs {@code check} with no write in flight: two nodes' states can be compared only while the
     * log stands still (under a steady load, one trailing by a few entries differed at every read).
     */
    void paused(Runnable check) {
      writing.writeLock().lock();
      try {
        check.run();
      } finally {
        writing.writeLock().unlock();
      }
    }

    @Override
    public void close() throws Exception {
      stop.set(true);
      for (Future<?> f : running) {
        f.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
    }
  }

  private void assertAllPresent(String svc, Set<String> acknowledged, List<String> on) {
    for (String id : on) {
      await().atMost(LONG).pollInterval(Duration.ofMillis(300)).ignoreExceptions()
          .untilAsserted(() -> assertThat(ids(http(id), "prod", svc)).containsAll(acknowledged));
    }
    // the nodes converge on one state
    await().atMost(LONG).pollInterval(Duration.ofMillis(300)).ignoreExceptions().untilAsserted(() -> {
      Set<Set<String>> states = new HashSet<>();
      for (String id : on) {
        states.add(ids(http(id), "prod", svc));
      }
      assertThat(states).hasSize(1);
    });
  }

  @Test
  void writesOnAFollowerAreForwardedAndEveryNodeServesReads() {
    String leader = awaitOneLeader(List.of("n1", "n2", "n3"));
    String follower = followers(leader).get(0);
    // A peer that does not answer within the membership query's bound is shown "unreachable";
    // on a loaded machine that can happen once, so wait for the settled view.
    await().atMost(LONG).untilAsserted(() -> {
      JsonNode cluster = http(follower).get("/v1/cluster").json();
      assertThat(cluster.get("leader").asText()).isEqualTo(leader);
      assertThat(cluster.get("term").asLong()).isPositive();
      assertThat(cluster.get("members")).hasSize(3);
      for (JsonNode m : cluster.get("members")) {
        assertThat(m.get("role").asText()).isIn("leader", "follower");
        assertThat(m.get("address").asText()).isEqualTo("127.0.0.1:" + ports.get(m.get("id").asText()));
        assertThat(m.get("lastCommitted").asLong()).isPositive();
        assertThat(m.has("stalled")).as("a member applying normally is not stalled").isFalse();
      }
    });

    assertThat(http(follower).post("/v1/namespaces", "{\"name\":\"forwarded\"}").status()).isEqualTo(201);
    Http.Response again = http(follower).post("/v1/namespaces", "{\"name\":\"forwarded\"}");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.json().get("error").get("code").asText()).isEqualTo("already_exists");
    assertThat(http(follower).post("/v1/namespaces/prod/services/db/instances", instance("first", 1)).status())
        .isEqualTo(201);
    // read-your-writes on the node written to; consistent reads on any node
    assertThat(ids(http(follower), "prod", "db")).contains("first");
    for (String id : nodes.keySet()) {
      Http.Response r = http(id).get("/v1/namespaces/prod/services/db/instances?consistent=true");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("\"first\"");
    }
    // each node says what it knows committed beside what it applied, and applies all of it
    for (String id : nodes.keySet()) {
      await().atMost(LONG).untilAsserted(() -> {
        String metrics = http(id).get("/metrics").body();
        double commit = gauge(metrics, "lodestar_raft_commit_index");
        assertThat(commit).as(id).isPositive().isEqualTo(gauge(metrics, "lodestar_raft_applied_index"));
        assertThat(gauge(metrics, "lodestar_raft_apply_stalled")).as(id).isZero();
      });
    }
  }

  private static double gauge(String metrics, String name) {
    return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
        .orElseThrow(() -> new AssertionError(name + " not in /metrics"));
  }

  /**
   * The leader is killed under load and stays down while the survivors take far more writes than a
   * snapshot interval and a log segment: nothing acknowledged is lost or applied twice, and the old
   * leader, restarted far behind, catches up by the snapshot its successor sends (the log it missed
   * is purged). One real kill covers both, where two tests each paid for a kill and a restart.
   */
  @Test
  void leaderKilledUnderLoadLosesNothingAndCatchesUpBySnapshot() throws Exception {
    String leader = awaitOneLeader(List.of("n1", "n2", "n3"));
    Set<String> acknowledged;
    int twice;
    try (Load load = new Load("killed", List.of("n1", "n2", "n3"), 6)) {
      await().atMost(LONG).until(() -> load.acknowledged.size() >= 200);
      nodes.get(leader).kill();
      String next = awaitOneLeader(followers(leader));
      assertThat(next).isNotEqualTo(leader);
      int before = load.acknowledged.size();
      // writes continue, for far more entries than a snapshot interval (200) and a log segment
      await().atMost(LONG).until(() -> load.acknowledged.size() >= before + 800);
      load.close();
      acknowledged = Set.copyOf(load.acknowledged);
      twice = load.appliedTwice.get();
    }
    assertThat(twice).as("writes applied twice").isZero();
    Files.writeString(nodes.get(leader).logFile(), "", java.nio.file.StandardOpenOption.APPEND);
    long logBefore = Files.size(nodes.get(leader).logFile());
    nodes.get(leader).startAsync().awaitUp();
    assertAllPresent("killed", acknowledged, List.of("n1", "n2", "n3"));
    String log = Files.readString(nodes.get(leader).logFile()).substring((int) logBefore);
    assertThat(log).contains("Installed a snapshot");
  }

  @Test
  void frozenLeaderServesNoWritesAndRejoinsWithoutSplitBrain() throws Exception {
    String leader = awaitOneLeader(List.of("n1", "n2", "n3"));
    ServerProcess frozen = nodes.get(leader);
    frozen.freeze();
    try {
      List<String> others = followers(leader);
      String next = awaitOneLeader(others);
      assertThat(next).isNotEqualTo(leader);
      // the survivors' Raft clients still aim at the frozen leader: the first write moves at once
      // to the leader their Raft servers know, with no request timeout spent on the frozen one
      Http.Response first = http(others.get(0)).post("/v1/namespaces/prod/services/frozen/instances",
          instance("during", 1));
      assertThat(first.status()).as(first.body()).isEqualTo(201);
      HttpClient quick = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2)).build();
      boolean answered;
      try {
        quick.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(leader)
                + "/v1/namespaces/prod/services/frozen/instances")).timeout(Duration.ofSeconds(2))
            .POST(HttpRequest.BodyPublishers.ofString(instance("to-frozen", 2))).build(),
            java.net.http.HttpResponse.BodyHandlers.discarding());
        answered = true;
      } catch (IOException e) {
        answered = false;
      }
      assertThat(answered).as("a frozen node answers a write").isFalse();
    } finally {
      frozen.resume();
    }
    String after = awaitOneLeader(List.of("n1", "n2", "n3"));
    assertThat(after).isNotEqualTo(leader);
    assertThat(node(leader).get("role").asText()).isEqualTo("follower");
    assertAllPresent("frozen", Set.of("during"), List.of("n1", "n2", "n3"));
  }

  @Test
  void membershipGrowsToFiveAndShrinksBackWhileWritesContinue() throws Exception {
    String five = List.of("n1", "n2", "n3", "n4", "n5").stream().map(id -> id + "=127.0.0.1:" + ports.get(id))
        .collect(Collectors.joining(","));
    Set<String> acknowledged;
    for (String id : List.of("n4", "n5")) {
      nodes.put(id, process(id, five, "--join").startAsync());
    }
    nodes.get("n4").awaitUp();
    nodes.get("n5").awaitUp();
    try (Load load = new Load("members", List.of("n1", "n2", "n3"), 2)) {
      for (String id : List.of("n4", "n5")) {
        Http.Response r = http("n1").post("/v1/cluster/members",
            "{\"id\":\"" + id + "\",\"address\":\"127.0.0.1:" + ports.get(id) + "\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
      }
      JsonNode cluster = http("n2").get("/v1/cluster").json();
      assertThat(cluster.get("members")).hasSize(5);
      awaitOneLeader(List.of("n1", "n2", "n3", "n4", "n5"));
      int before = load.acknowledged.size();
      await().atMost(LONG).until(() -> load.acknowledged.size() >= before + 50);
      Set<String> sofar = Set.copyOf(load.acknowledged);
      load.paused(() -> assertAllPresent("members", sofar, List.of("n4", "n5")));

      for (String id : List.of("n5", "n4")) {
        Http.Response r = http("n1").delete("/v1/cluster/members/" + id);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        nodes.remove(id).terminate();
      }
      assertThat(http("n3").get("/v1/cluster").json().get("members")).hasSize(3);
      int mid = load.acknowledged.size();
      await().atMost(LONG).until(() -> load.acknowledged.size() >= mid + 50);
      load.close();
      acknowledged = Set.copyOf(load.acknowledged);
    }
    assertAllPresent("members", acknowledged, List.of("n1", "n2", "n3"));
  }

  @Test
  void fullClusterRestartBringsBackEveryPersistentObject() throws Exception {
    assertThat(http("n1").put("/v1/namespaces/prod/services/db", "{\"metadata\":{\"owner\":\"dba\"}}").status())
        .isEqualTo(200);
    for (int n = 0; n < 20; n++) {
      assertThat(http("n" + (1 + n % 3)).post("/v1/namespaces/prod/services/restart/instances", instance("r" + n, n))
          .status()).isEqualTo(201);
    }
    Set<String> before = ids(http("n1"), "prod", "restart");
    String namespaces = http("n1").get("/v1/namespaces?consistent=true").body();
    assertThat(before).isNotEmpty();
    for (ServerProcess p : nodes.values()) {
      p.kill();
    }
    for (ServerProcess p : nodes.values()) {
      p.startAsync();
    }
    nodes.values().forEach(ServerProcess::awaitUp);
    awaitOneLeader(List.of("n1", "n2", "n3"));
    assertAllPresent("restart", before, List.of("n1", "n2", "n3"));
    await().atMost(LONG).ignoreExceptions().untilAsserted(() -> {
      assertThat(http("n2").get("/v1/namespaces").body()).isEqualTo(namespaces);
      assertThat(http("n3").get("/v1/namespaces/prod/services/db").json().get("metadata").get("owner").asText())
          .isEqualTo("dba");
    });
  }

  private static String health(Http http, String svc, String id) {
    Http.Response r = http.get("/v1/namespaces/prod/services/" + svc + "/instances");
    if (r.status() != 200) {
      return "absent";
    }
    for (JsonNode i : r.json().get("instances")) {
      if (i.get("id").asText().equals(id)) {
        return i.get("health").asText();
      }
    }
    return "absent";
  }

  @Test
  void ephemeralLeasesAreDecidedByTheNodeTheirHeartbeatsReach() throws Exception {
    String leader = awaitOneLeader(List.of("n1", "n2", "n3"));
    String holder = followers(leader).get(0);
    String other = followers(leader).get(1);
    String ttl2 = "\"ephemeral\":true,\"ttlSeconds\":2}";
    for (String id : List.of("beating", "silent", "orphan")) {
      assertThat(http(holder).post("/v1/namespaces/prod/services/eph/instances",
          "{\"id\":\"" + id + "\",\"host\":\"10.0.0.9\",\"port\":80," + ttl2).status()).isEqualTo(201);
    }
    // heartbeats reach `holder` only; a client whose node dies moves them to another node
    String[] target = {holder};
    java.util.concurrent.ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();
    AtomicBoolean orphanBeats = new AtomicBoolean(true);
    beats.scheduleAtFixedRate(() -> {
      try {
        http(target[0]).put("/v1/namespaces/prod/services/eph/instances/beating/heartbeat", "");
        if (orphanBeats.get()) {
          http(holder).put("/v1/namespaces/prod/services/eph/instances/orphan/heartbeat", "");
        }
      } catch (RuntimeException e) {
        // the node is down; the next beat goes elsewhere
      }
    }, 0, 500, TimeUnit.MILLISECONDS);
    try {
      // 'silent' going unhealthy shows its TTL passed; the nodes that never see the heartbeats did
      // not expire 'beating' meanwhile
      await().atMost(LONG).until(() -> health(http(other), "eph", "silent").equals("UNHEALTHY"));
      for (String id : List.of("n1", "n2", "n3")) {
        assertThat(health(http(id), "eph", "beating")).isEqualTo("HEALTHY");
        assertThat(health(http(id), "eph", "orphan")).isEqualTo("HEALTHY");
      }
      // the holder dies: 'beating' moves to another node (the client fails over), 'orphan' does not
      orphanBeats.set(false);
      nodes.get(holder).kill();
      target[0] = other;
      // the leader takes over the orphan's lease and, its TTL having passed, marks it
      await().atMost(LONG).until(() -> health(http(other), "eph", "orphan").equals("UNHEALTHY"));
      assertThat(health(http(other), "eph", "beating")).isEqualTo("HEALTHY");
      assertThat(http(leader).get("/v1/namespaces/prod/services/eph/instances").body())
          .contains("\"leaseHolder\":\"" + other + "\"");
    } finally {
      beats.shutdownNow();
    }
    nodes.get(holder).startAsync().awaitUp();
    // no lapsed leases left behind: a later test that loses the majority would otherwise find
    // their removal stalled, pause it by expiry protection and stay DEGRADED for its 60 s window
    for (String id : List.of("beating", "silent", "orphan")) {
      await().atMost(LONG).ignoreExceptions().until(() -> List.of(200, 404).contains(
          http(other).delete("/v1/namespaces/prod/services/eph/instances/" + id).status()));
    }
  }

  @Test
  void backupRestoresTheWholeClusterThroughTheLog() {
    Http n1 = http("n1");
    for (int n = 0; n < 5; n++) {
      assertThat(n1.post("/v1/namespaces/prod/services/backedup/instances", instance("b" + n, n)).status())
          .isEqualTo(201);
    }
    Http.Response b = n1.post("/v1/cluster/backup", "{}");
    assertThat(b.status()).as(b.body()).isEqualTo(201);
    String name = b.json().get("name").asText();
    Set<String> before = ids(n1, "prod", "backedup");
    assertThat(n1.post("/v1/namespaces/prod/services/restored/instances", instance("after-backup", 1)).status())
        .isEqualTo(201);
    Http.Response r = n1.post("/v1/cluster/restore", "{\"name\":\"" + name + "\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    for (String id : List.of("n1", "n2", "n3")) {
      await().atMost(LONG).ignoreExceptions().untilAsserted(() -> {
        assertThat(ids(http(id), "prod", "restored")).isEmpty();
        assertThat(ids(http(id), "prod", "backedup")).isEqualTo(before);
      });
    }
    assertThat(n1.post("/v1/cluster/restore", "{\"name\":\"../etc/passwd\"}").status()).isEqualTo(400);
  }

  /**
   * A backup larger than one Raft entry as stored restores deflated (each node reads it back one
   * instance at a time); one too large even deflated is refused, 413 naming the backup, before
   * anything is written. (Before, the restore sent the state as stored and any backup over 32 MiB,
   * about 100,000 instances, failed inside Ratis.)
   */
  @Test
  void aBackupLargerThanOneEntryRestoresDeflatedAndOneTooLargeEvenSoIsRefused() throws IOException {
    Http n1 = http("n1");
    Http.Response b = n1.post("/v1/cluster/backup", "{}");
    assertThat(b.status()).as(b.body()).isEqualTo(201);
    String before = b.json().get("name").asText();
    Path backups = dir.resolve("n1").resolve("backups");
    io.lodestar.api.v1.state.StateSnapshot original = Backups.read(backups.resolve(before));
    // 5,000 instances with 8 KB of metadata each: 40 MB as stored, more than an entry holds
    io.lodestar.api.v1.state.StateSnapshot big = withService(original, "big", 5_000, () -> "v".repeat(1000));
    assertThat((long) big.getSerializedSize()).isGreaterThan(io.lodestar.server.storage.RaftLog.MAX_ENTRY_BYTES);
    writeSingleNodeSnapshot(backups.resolve("snapshot-big.bin"), big);
    Http.Response r = n1.post("/v1/cluster/restore", "{\"name\":\"snapshot-big.bin\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("instances").asInt()).isEqualTo(big.getRegistry().getInstancesCount());
    assertThat(r.json().get("entryBytes").asLong()).isLessThan(io.lodestar.server.storage.RaftLog.MAX_ENTRY_BYTES);
    for (String id : List.of("n1", "n2", "n3")) {
      await().atMost(LONG).ignoreExceptions().untilAsserted(() -> assertThat(
          http(id).get("/v1/namespaces/prod/services/big").json().get("instances").asInt()).isEqualTo(5_000));
    }
    // random metadata deflates to little less than it is: still more than an entry holds
    java.util.Random random = new java.util.Random(11);
    String letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    io.lodestar.api.v1.state.StateSnapshot tooBig = withService(original, "too-big", 7_000, () -> {
      StringBuilder s = new StringBuilder(1000);
      for (int k = 0; k < 1000; k++) {
        s.append(letters.charAt(random.nextInt(letters.length())));
      }
      return s.toString();
    });
    writeSingleNodeSnapshot(backups.resolve("snapshot-too-big.bin"), tooBig);
    r = n1.post("/v1/cluster/restore", "{\"name\":\"snapshot-too-big.bin\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(413);
    assertThat(r.json().at("/error/field").asText()).isEqualTo("name");
    assertThat(r.json().at("/error/message").asText()).contains("deflated").contains("MiB");
    assertThat(n1.get("/v1/namespaces/prod/services/big").json().get("instances").asInt()).isEqualTo(5_000);
    assertThat(n1.get("/v1/namespaces/prod/services/too-big").status()).isEqualTo(404);
    // a file whose checksum holds but whose state does not read is refused before the log too
    byte[] body = {0x12, 0x7f, 0x22, 0x01};  // a registry of 127 bytes, cut short after 2
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(body);
    Files.write(backups.resolve("snapshot-cut.bin"), java.nio.ByteBuffer.allocate(20 + body.length).putInt(0x4C445331)
        .putLong(1).putInt((int) crc.getValue()).putInt(body.length).put(body).array());
    r = n1.post("/v1/cluster/restore", "{\"name\":\"snapshot-cut.bin\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.json().at("/error/field").asText()).isEqualTo("name");
    assertThat(r.json().at("/error/message").asText()).contains("snapshot-cut.bin cannot be used");
    assertThat(n1.get("/v1/namespaces/prod/services/big").json().get("instances").asInt()).isEqualTo(5_000);
    // back to the state before: later tests snapshot often, and 40 MB each time would slow them
    r = n1.post("/v1/cluster/restore", "{\"name\":\"" + before + "\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    for (String id : List.of("n1", "n2", "n3")) {
      await().atMost(LONG).ignoreExceptions().untilAsserted(() -> assertThat(
          http(id).get("/v1/namespaces/prod/services/big").status()).isEqualTo(404));
    }
  }

  /** {@code state} with a service of {@code count} persistent instances, each with 8 metadata values. */
  private static io.lodestar.api.v1.state.StateSnapshot withService(io.lodestar.api.v1.state.StateSnapshot state,
      String service, int count, java.util.function.Supplier<String> value) {
    var registry = state.getRegistry().toBuilder().addServices(io.lodestar.api.v1.ServiceInfo.newBuilder()
        .setNamespace("prod").setName(service));
    for (int n = 0; n < count; n++) {
      var i = io.lodestar.api.v1.Instance.newBuilder().setNamespace("prod").setService(service).setId("i-" + n)
          .setHost("10.7." + (n >> 8) + "." + (n & 255)).setPort(8080).setWeight(100)
          .setHealth(io.lodestar.api.v1.HealthStatus.HEALTHY).setRevision(1);
      for (int k = 0; k < 8; k++) {
        i.putMetadata("k" + k, value.get());
      }
      registry.addInstances(i);
    }
    return state.toBuilder().setRegistry(registry).build();
  }

  /** A single node's snapshot file (what `cluster restore` takes to move a node to a cluster). */
  static void writeSingleNodeSnapshot(Path file, io.lodestar.api.v1.state.StateSnapshot state)
      throws IOException {
    byte[] body = state.toByteArray();
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(body);
    java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(20).putInt(0x4C445331).putLong(state.getAppliedIndex())
        .putInt((int) crc.getValue()).putInt(body.length);
    try (var out = Files.newOutputStream(file)) {
      out.write(header.array());
      out.write(body);
    }
  }

  /**
   * A node that loses its majority answers writes 503 quickly, without Raft internals, reports
   * DEGRADED, and writes again by itself once the majority is back: no restart.
   */
  @Test
  void aNodeThatLosesItsMajorityRecoversByItself() throws Exception {
    String leader = awaitOneLeader(List.of("n1", "n2", "n3"));
    String survivor = followers(leader).get(0);
    for (String id : List.of("n1", "n2", "n3")) {
      if (!id.equals(survivor)) {
        nodes.get(id).kill();
      }
    }
    // a few writes, past the point where the Ratis client used to give up for good
    for (int n = 0; n < 3; n++) {
      Http.Response r = http(survivor).post("/v1/namespaces/prod/services/alone/instances", instance("lost" + n, n));
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().get("error").get("code").asText()).isEqualTo("unavailable");
      assertThat(r.body()).contains("no reachable majority").doesNotContainIgnoringCase("raft")
          .doesNotContain("client-").doesNotContain("group-");
    }
    await().atMost(LONG).ignoreExceptions().untilAsserted(() -> {
      JsonNode health = http(survivor).get("/health").json();
      assertThat(health.get("status").asText()).isEqualTo("DEGRADED");
      assertThat(health.get("reason").asText()).contains("no majority");
    });
    for (String id : List.of("n1", "n2", "n3")) {
      if (!id.equals(survivor)) {
        nodes.get(id).startAsync();
      }
    }
    nodes.values().forEach(ServerProcess::awaitUp);
    awaitOneLeader(List.of("n1", "n2", "n3"));
    await().atMost(LONG).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() ->
        http(survivor).post("/v1/namespaces/prod/services/alone/instances", instance("back", 1)).status() == 201);
    await().atMost(LONG).ignoreExceptions().until(() ->
        http(survivor).get("/health").json().get("status").asText().equals("UP"));
    assertThat(http(survivor).get("/v1/namespaces/prod/services/alone/instances?consistent=true").status())
        .isEqualTo(200);
  }
}
