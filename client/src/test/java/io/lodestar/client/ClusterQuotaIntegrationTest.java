package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.ratelimit.ClusterLimiter;
import io.lodestar.client.route.CallContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three SDK instances (three clients, each with its own stream and client id) share one global
 * limit of 300 permits/s, each offering about 900 calls/s. Accuracy: the permits granted over a
 * measured wall-clock window stay within ±5 % of the limit, before and after a server restart
 * (the limit is a rule in the replicated state; shares are rebuilt from the next reports).
 */
class ClusterQuotaIntegrationTest {
  static final double LIMIT = 300;
  @TempDir Path dataDir;

  @Test
  void threeSdksHoldOneGlobalLimitAcrossARestart() throws Exception {
    try (TestServer server = TestServer.start(dataDir)) {
      List<LodestarClient> clients = new ArrayList<>();
      List<Governor> governors = new ArrayList<>();
      try (LodestarClient provider = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build()) {
        provider.register(RegistrationSpec.builder().service("quota").host("10.9.0.1").port(80).build());
        HttpResponse<String> put = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
            + server.address() + "/v1/namespaces/default/services/quota/rules/ratelimit"))
            .PUT(HttpRequest.BodyPublishers.ofString("{\"rules\":[{\"name\":\"global\",\"limit\":" + (long) LIMIT
                + ",\"scope\":\"cluster\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        for (int i = 0; i < 3; i++) {
          LodestarClient c = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
          clients.add(c);
          governors.add(Governor.builder(c).quotaReportInterval(Duration.ofMillis(200)).build());
        }
        for (Governor g : governors) {
          await().atMost(Duration.ofSeconds(30)).until(() -> limiter(g) != null);
        }
        Load load = new Load(governors);
        try {
          awaitShares(governors);
          double before = load.measure(Duration.ofSeconds(5));
          System.out.printf("cluster quota: %.1f permits/s granted under a limit of %.0f%n", before, LIMIT);
          assertThat(before).isCloseTo(LIMIT, within(LIMIT * 0.05));

          server.restart();
          long[] grants = governors.stream().mapToLong(g -> limiter(g).grants()).toArray();
          for (int i = 0; i < 3; i++) {
            Governor g = governors.get(i);
            long b = grants[i];
            await().atMost(Duration.ofSeconds(30)).until(() -> limiter(g).grants() > b + 3);
          }
          awaitShares(governors);
          double after = load.measure(Duration.ofSeconds(5));
          System.out.printf("cluster quota after a restart: %.1f permits/s%n", after);
          assertThat(after).isCloseTo(LIMIT, within(LIMIT * 0.05));
        } finally {
          load.stop();
          governors.forEach(Governor::close);
          clients.forEach(LodestarClient::close);
        }
      }
    }
  }

  static ClusterLimiter limiter(Governor g) {
    var e = g.governor("default", "quota").rateLimits().find("global");
    return e == null ? null : (ClusterLimiter) e.limiter();
  }

  /** Shares settle at a third of the limit each (equal demand). */
  static void awaitShares(List<Governor> governors) {
    for (Governor g : governors) {
      await().atMost(Duration.ofSeconds(30)).until(() -> Math.abs(limiter(g).rate() - LIMIT / 3) < LIMIT * 0.02);
    }
  }

  /** One thread per SDK offering a call about every millisecond. */
  static final class Load {
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicLong granted = new AtomicLong();
    final List<Thread> threads = new ArrayList<>();

    Load(List<Governor> governors) {
      for (Governor g : governors) {
        Thread t = new Thread(() -> {
          CallContext ctx = CallContext.empty();
          while (running.get()) {
            try {
              g.acquire("quota", ctx);
              granted.incrementAndGet();
            } catch (GovernanceException refused) {
              // over the share: what the test is about
            }
            LockSupport.parkNanos(1_000_000);  // pacing the offered load, not synchronisation
          }
        });
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
    }

    /** Granted permits per second over a window of about {@code d}. */
    double measure(Duration d) {
      long g0 = granted.get();
      long t0 = System.nanoTime();
      LockSupport.parkNanos(d.toNanos());
      long g1 = granted.get();
      long t1 = System.nanoTime();
      return (g1 - g0) / ((t1 - t0) / 1e9);
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(10_000);
      }
    }
  }
}
