package io.lodestar.bench;

import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.client.breaker.CircuitBreaker;
import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.governance.Outcome;
import io.lodestar.client.governance.ServiceGovernor;
import io.lodestar.client.route.CallContext;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar demo governance}: a real server, five in-process providers of one service (p0
 * slow, p1 failing half its calls, the rest healthy), and a caller whose governance rules are put
 * over REST while it runs. Each step prints each instance's share of the calls, round by round.
 * Providers are simulated in-process: a call to one is its latency and outcome, reported to the
 * SDK as a real call would be.
 */
@Command(name = "governance", mixinStandardHelpOptions = true,
    description = "Adaptive balancing, a breaker opening and recovering, a 5 %% canary, a rate limit: step by step.")
public final class GovernanceDemo implements Callable<Integer> {
  static final String SERVICE = "shop";

  @Option(names = "--server", description = "host:port of a running server; default: start one here")
  String server;

  @Option(names = "--round-ms", description = "length of one round of calls; default ${DEFAULT-VALUE}")
  int roundMs = 400;

  private final PrintStream out = System.out;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final SplittableRandom rnd = new SplittableRandom(2026);
  private String address;
  private final boolean[] failing = new boolean[6];
  private final double[] failShare = new double[6];
  private final long[] latencyMs = {50, 5, 5, 5, 5, 5};

  /**
   * The SDK's INFO lines (connected, subscribed, ...) would land between the demo's rows on the
   * same terminal; the demo says itself what happens. Held here: JUL keeps loggers weakly.
   */
  private static final java.util.logging.Logger SDK_LOG = java.util.logging.Logger.getLogger("io.lodestar.client");

  @Override
  public Integer call() throws Exception {
    SDK_LOG.setLevel(java.util.logging.Level.WARNING);
    try (ServerUnderTest s = server == null ? ServerUnderTest.start("256m") : ServerUnderTest.existing(server)) {
      address = s.address();
      out.println("Lodestar governance demo against " + address + (s.owned() ? " (started here)" : ""));
      try (LodestarClient providers = LodestarClient.builder().servers(address).build();
           LodestarClient caller = LodestarClient.builder().servers(address).build()) {
        for (int i = 0; i < 5; i++) {
          providers.register(RegistrationSpec.builder().service(SERVICE).host("10.0.0." + i).port(8080)
              .metadata(Map.of("version", "1", "name", "p" + i)).build());
        }
        try (Governor gov = Governor.builder(caller).build()) {
          ServiceGovernor g = gov.governor("default", SERVICE);
          waitFor("5 instances", () -> g.size() == 5);
          adaptive(gov, g);
          breaker(gov, g);
          canary(gov, g, providers);
          rateLimit(gov, g);
        }
      }
    }
    out.println("\nDone.");
    return 0;
  }

  // ------------------------------------------------------------------ steps

  private void adaptive(Governor gov, ServiceGovernor g) throws Exception {
    step("1. Adaptive balancing: p0 answers in 50 ms (others 5 ms), p1 fails half its calls");
    put("circuitbreaker", "{\"disabled\":true}");
    put("loadbalance", "{\"policy\":\"adaptive\",\"adaptive\":{\"updateIntervalMs\":200}}");
    waitFor("adaptive rule", () -> g.rules().loadBalancePolicy() == io.lodestar.client.lb.LbPolicy.ADAPTIVE);
    failShare[1] = 0.5;
    out.println("   Each row is one round: each instance's share of the calls. pN×F is the adaptive balancer's");
    out.println("   weight factor for pN (1.00 is a full share; it falls while pN is slow or failing, and each");
    out.println("   instance keeps a floor share, its probes, so that recovery is seen).");
    rounds(gov, g, 8);
    out.println("   p1 is overloaded: it only gets probes. Now p1 heals; watch it come back step by step:");
    failShare[1] = 0;
    rounds(gov, g, 8);
  }

  private void breaker(Governor gov, ServiceGovernor g) throws Exception {
    step("2. Circuit breaker: p3 starts failing every call; its breaker opens, then probes and closes");
    put("loadbalance", "{\"policy\":\"weighted_random\"}");
    put("circuitbreaker", "{\"instance\":{\"consecutiveErrors\":5,\"openMs\":2000,\"halfOpenProbes\":3,"
        + "\"successesToClose\":2}}");
    waitFor("breaker rule", () -> g.rules().hasCircuitBreaker()
        && g.rules().loadBalancePolicy() == io.lodestar.client.lb.LbPolicy.WEIGHTED_RANDOM);
    latencyMs[0] = 5;
    failing[3] = true;
    rounds(gov, g, 3);
    out.println("   p3 heals; after the 2 s open period its breaker lets 3 probes through and closes:");
    failing[3] = false;
    rounds(gov, g, 8, () -> g.breakerState(id(3)) == CircuitBreaker.State.CLOSED);
  }

  private void canary(Governor gov, ServiceGovernor g, LodestarClient providers) throws Exception {
    step("3. Canary: a version=2 instance (p5) joins; a route rule sends it 5 % of the calls");
    providers.register(RegistrationSpec.builder().service(SERVICE).host("10.0.0.5").port(8080)
        .metadata(Map.of("version", "2", "name", "p5")).build());
    put("route", "{\"rules\":[{\"name\":\"canary\",\"destinations\":[{\"subset\":{\"version\":\"1\"},\"weight\":95},"
        + "{\"subset\":{\"version\":\"2\"},\"weight\":5}]}]}");
    waitFor("canary rule and p5", () -> g.rules().hasRoute() && g.size() == 6);
    rounds(gov, g, 4);
  }

  private void rateLimit(Governor gov, ServiceGovernor g) throws Exception {
    step("4. Rate limit: 100 calls/s for the service; the caller offers about 400/s");
    put("ratelimit", "{\"rules\":[{\"name\":\"shop-100\",\"limit\":100,\"burst\":10}]}");
    waitFor("rate limit rule", () -> g.rules().hasRateLimit());
    out.printf("   %-8s %10s %10s%n", "second", "admitted", "refused");
    for (int sec = 1; sec <= 4; sec++) {
      int admitted = 0;
      int refused = 0;
      long end = System.nanoTime() + 1_000_000_000L;
      while (System.nanoTime() < end) {
        try {
          gov.decorateSupplier(SERVICE, CallContext.empty(), Instance::id).get();
          admitted++;
        } catch (GovernanceException e) {
          refused++;
        }
        LockSupport.parkNanos(2_500_000);
      }
      out.printf("   %-8d %10d %10d%n", sec, admitted, refused);
    }
  }

  // ------------------------------------------------------------------ rounds and printing

  private void rounds(Governor gov, ServiceGovernor g, int n) {
    rounds(gov, g, n, () -> false);
  }

  /** Up to {@code n} rounds; once {@code done} holds, shows that round and two more, then stops. */
  private void rounds(Governor gov, ServiceGovernor g, int n, BooleanSupplier done) {
    int extra = 2;
    int size = g.size();
    StringBuilder header = new StringBuilder("   round ");
    for (int i = 0; i < size; i++) {
      header.append(String.format("%9s", label(i)));
    }
    out.println(header);
    for (int r = 0; r < n; r++) {
      int[] counts = new int[6];
      int total = 0;
      long end = System.nanoTime() + roundMs * 1_000_000L;
      while (System.nanoTime() < end) {
        Instance in = gov.choose(SERVICE, CallContext.empty());
        int i = in.host().charAt(in.host().length() - 1) - '0';
        counts[i]++;
        total++;
        boolean ok = !failing[i] && !(failShare[i] > 0 && rnd.nextDouble() < failShare[i]);
        gov.report(in, ok ? Outcome.SUCCESS : Outcome.FAILURE, latencyMs[i] * 1_000_000L);
        LockSupport.parkNanos(200_000);  // pacing: about 3 000 calls a second
      }
      StringBuilder row = new StringBuilder(String.format("   %5d ", r + 1));
      for (int i = 0; i < size; i++) {
        row.append(String.format("%8.1f%%", 100.0 * counts[i] / Math.max(1, total)));
      }
      row.append(breakers(g, size));
      out.println(row);
      if (done.getAsBoolean() && --extra < 0) {
        return;
      }
    }
  }

  private String breakers(ServiceGovernor g, int size) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < size; i++) {
      CircuitBreaker.State s = g.breakerState(id(i));
      if (s != null && s != CircuitBreaker.State.CLOSED) {
        b.append("  ").append(label(i)).append(" breaker ").append(s);
      }
      if (g.factor(id(i)) < 0.999 && g.rules().loadBalancePolicy() == io.lodestar.client.lb.LbPolicy.ADAPTIVE) {
        b.append(String.format("  %s×%.2f", "p" + i, g.factor(id(i))));
      }
    }
    return b.toString();
  }

  private String label(int i) {
    return switch (i) {
      case 0 -> latencyMs[0] > 5 ? "p0-slow" : "p0";
      case 1 -> "p1";
      case 5 -> "p5-v2";
      default -> "p" + i;
    };
  }

  private static String id(int i) {
    return "10.0.0." + i + ":8080";
  }

  private void step(String title) {
    out.println();
    out.println("== " + title);
  }

  private void put(String kind, String json) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + address
        + "/v1/namespaces/default/services/" + SERVICE + "/rules/" + kind)).PUT(HttpRequest.BodyPublishers
        .ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("PUT rules/" + kind + " answered " + r.statusCode() + ": " + r.body());
    }
    out.println("   PUT rules/" + kind + " " + json);
  }

  /** Waits for a pushed change to reach the SDK (polling a local read; 30 s at most). */
  private static void waitFor(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(10_000_000);
    }
  }
}
