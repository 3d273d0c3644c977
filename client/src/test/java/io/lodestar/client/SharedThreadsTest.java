package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients of one JVM share their control and listener threads (issue 11, W2: 50 watchers woke
 * 100 threads per change) and each still keeps its own order and its own lifecycle.
 */
class SharedThreadsTest {
  static final int WATCHERS = 50;
  static final int CHANGES = 20;

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
  }

  private LodestarClient client() {
    LodestarClient c = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
    clients.add(c);
    return c;
  }

  /** One watcher's view: every event's revision and the sequence numbers it added, in arrival order. */
  private static final class Watcher {
    final List<Long> revisions = new CopyOnWriteArrayList<>();
    final List<List<Integer>> added = new CopyOnWriteArrayList<>();

    void on(ServiceEvent e) {
      revisions.add(e.revision());
      added.add(e.added().stream().filter(i -> i.id().startsWith("c-"))
          .map(i -> Integer.parseInt(i.id().substring(2))).sorted().toList());
    }

    List<Integer> all() {
      return added.stream().flatMap(List::stream).toList();
    }
  }

  @Test
  void fiftyClientsShareThePoolsAndEachSeesEveryChangeInOrder() {
    String svc = "shared-threads";
    client().register(RegistrationSpec.builder().service(svc).id("warm").host("10.2.0.1").port(1).ttlSeconds(60).build());
    int threadsBefore = Thread.activeCount();

    List<Watcher> watchers = new ArrayList<>();
    for (int w = 0; w < WATCHERS; w++) {
      Watcher watcher = new Watcher();
      watchers.add(watcher);
      client().subscribe(svc, watcher::on);
    }
    await().until(() -> watchers.stream().allMatch(w -> !w.revisions.isEmpty()));
    LodestarClient writer = client();
    for (int k = 0; k < CHANGES; k++) {
      writer.register(RegistrationSpec.builder().service(svc).id("c-" + k).host("10.2.1." + k).port(9000)
          .ttlSeconds(60).build());
    }
    List<Integer> expected = java.util.stream.IntStream.range(0, CHANGES).boxed().toList();
    await().until(() -> watchers.stream().allMatch(w -> w.all().containsAll(expected)));

    for (Watcher w : watchers) {
      // in revision order, each change once: a watcher may get several changes in one event, never one out of order
      assertThat(w.revisions).isSorted().doesNotHaveDuplicates();
      assertThat(w.all()).isEqualTo(expected);
    }
    // 52 clients, but the threads they run on are the JVM's few shared ones (before: two per client)
    assertThat(Thread.activeCount() - threadsBefore).isLessThan(WATCHERS / 2);
    assertThat(threadsNamed("lodestar-client-")).isBetween(1L, (long) SharedThreads.CONTROL_THREADS);
    assertThat(threadsNamed("lodestar-listener-")).isBetween(1L, (long) SharedThreads.LISTENER_THREADS);
  }

  private static long threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
  }

  @Test
  void closingOneClientLeavesTheOthersRunning() throws Exception {
    String svc = "close-one";
    LodestarClient closing = client();
    LodestarClient staying = client();
    CountDownLatch seen = new CountDownLatch(1);
    staying.subscribe(svc, e -> {
      if (e.instances().stream().anyMatch(i -> i.id().equals("after"))) {
        seen.countDown();
      }
    });
    closing.register(RegistrationSpec.builder().service(svc).id("before").host("10.2.2.1").port(1).ttlSeconds(60).build());
    closing.close();
    client().register(RegistrationSpec.builder().service(svc).id("after").host("10.2.2.2").port(1).ttlSeconds(60).build());
    assertThat(seen.await(60, TimeUnit.SECONDS)).isTrue();
    await().until(() -> staying.getInstances(svc).stream().noneMatch(i -> i.id().equals("before")));
  }

  @Test
  void aListenerThatBlocksHoldsUpOnlyItsOwnEvents() throws Exception {
    String svc = "slow-listener";
    CountDownLatch release = new CountDownLatch(1);
    client().subscribe(svc, e -> {
      try {
        release.await(60, TimeUnit.SECONDS);  // application code stuck
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    });
    List<ServiceEvent> other = new CopyOnWriteArrayList<>();
    client().subscribe(svc, other::add);
    client().register(RegistrationSpec.builder().service(svc).id("x").host("10.2.3.1").port(1).ttlSeconds(60).build());
    try {
      await().until(() -> other.stream().anyMatch(e -> e.instances().stream().anyMatch(i -> i.id().equals("x"))));
    } finally {
      release.countDown();
    }
  }
}
