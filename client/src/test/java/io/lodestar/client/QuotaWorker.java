package io.lodestar.client;

import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.ratelimit.ClusterLimiter;
import io.lodestar.client.route.CallContext;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One SDK process of {@link ClusterQuotaIntegrationTest}: connects to the server given as its
 * argument, offers about 900 calls a second to the service "quota", and answers commands on stdin
 * with one line each: {@code limiter} → "limiter RATE GRANTS" (RATE −1 before the rule arrives),
 * {@code measure MS} → "measure PERMITS_PER_SECOND" over the next MS, {@code quit}.
 */
public final class QuotaWorker {
  public static void main(String[] args) throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong granted = new AtomicLong();
    try (LodestarClient client = LodestarClient.builder().servers(args[0]).requestTimeout(Duration.ofSeconds(30))
        .build();
         Governor gov = Governor.builder(client).quotaReportInterval(Duration.ofMillis(200)).build()) {
      Thread load = new Thread(() -> {
        CallContext ctx = CallContext.empty();
        while (running.get()) {
          try {
            gov.acquire("quota", ctx);
            granted.incrementAndGet();
          } catch (GovernanceException refused) {
            // over this SDK's share
          }
          LockSupport.parkNanos(1_000_000);  // pacing the offered load
        }
      }, "quota-load");
      load.setDaemon(true);
      load.start();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] cmd = line.trim().split(" ");
        switch (cmd[0]) {
          case "limiter" -> {
            ClusterLimiter c = (ClusterLimiter) gov.governor("default", "quota").rateLimiter("global");
            System.out.println("limiter " + (c == null ? -1 : c.rate()) + " " + (c == null ? 0 : c.grants()));
          }
          case "measure" -> {
            long g0 = granted.get();
            long t0 = System.nanoTime();
            LockSupport.parkNanos(Long.parseLong(cmd[1]) * 1_000_000);
            long g1 = granted.get();
            long t1 = System.nanoTime();
            System.out.println("measure " + (g1 - g0) / ((t1 - t0) / 1e9));
          }
          case "quit" -> {
            running.set(false);
            return;
          }
          default -> System.out.println("error unknown command " + line);
        }
        System.out.flush();
      }
    } finally {
      running.set(false);
    }
  }
}
