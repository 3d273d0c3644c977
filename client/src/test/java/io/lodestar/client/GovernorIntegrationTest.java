package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.lodestar.client.breaker.CircuitBreaker;
import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.governance.Outcome;
import io.lodestar.client.route.CallContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real server, real SDK: rules put over REST reach the SDK's call path with the instance lists. */
class GovernorIntegrationTest {
  @TempDir static Path dataDir;
  static TestServer server;
  static LodestarClient provider;
  static LodestarClient consumer;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    server = TestServer.start(dataDir);
    provider = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
    consumer = LodestarClient.builder().servers(server.address()).requestTimeout(Duration.ofSeconds(30)).build();
  }

  @AfterAll
  static void stop() {
    consumer.close();
    provider.close();
    server.close();
  }

  static void register(String service, int count, String version) {
    for (int i = 0; i < count; i++) {
      provider.register(RegistrationSpec.builder().service(service).host("10.1." + version + "." + i).port(80)
          .metadata(Map.of("version", version)).build());
    }
  }

  static void putRule(String service, String kind, String json) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.address()
        + "/v1/namespaces/default/services/" + service + "/rules/" + kind))
        .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void canaryRulePushedToTheSdkSplitsTraffic() throws Exception {
    register("canary", 4, "1");
    register("canary", 1, "2");
    SplittableRandom rnd = new SplittableRandom(11);
    Governor gov = Governor.builder(consumer).random(rnd::nextLong).build();
    putRule("canary", "route", "{\"rules\":[{\"destinations\":[{\"subset\":{\"version\":\"1\"},\"weight\":95},"
        + "{\"subset\":{\"version\":\"2\"},\"weight\":5}]}]}");
    await().atMost(Duration.ofSeconds(30)).until(() -> gov.governor("default", "canary").rules().hasRoute());
    await().atMost(Duration.ofSeconds(30)).until(() -> gov.governor("default", "canary").size() == 5);
    int calls = 40_000;
    int v2 = 0;
    for (int i = 0; i < calls; i++) {
      Instance in = gov.choose("canary", CallContext.empty());
      if (in.metadata("version").equals("2")) {
        v2++;
      }
      gov.report(in, Outcome.SUCCESS, 1_000_000);
    }
    // σ ≈ 0.11 %; tolerance 1 %
    assertThat((double) v2 / calls).isCloseTo(0.05, within(0.01));
    gov.close();
  }

  /**
   * The documented interplay, with the default rules (only the policy chosen): a hard failure
   * (every call fails) is ejected by its breaker; a soft one (half the calls fail) stays in
   * rotation at a lower share and keeps getting probes, and once healed its share climbs back
   * without falling on the way. Time is a fake ticker moved by hand, one second per round.
   */
  @Test
  void withDefaultRulesBreakersTakeHardFailuresAndTheAdaptiveBalancerSoftOnes() throws Exception {
    register("coop", 4, "1");
    putRule("coop", "loadbalance", "{\"policy\":\"adaptive\"}");
    io.lodestar.client.governance.FakeTicker ticker = new io.lodestar.client.governance.FakeTicker();
    SplittableRandom rnd = new SplittableRandom(7);
    Governor gov = Governor.builder(consumer).ticker(ticker).random(rnd::nextLong).build();
    var g = gov.governor("default", "coop");
    await().atMost(Duration.ofSeconds(30)).until(() -> g.size() == 4
        && g.rules().loadBalancePolicy() == io.lodestar.client.lb.LbPolicy.ADAPTIVE);
    String healthy = "10.1.1.0:80";
    String soft = "10.1.1.1:80";
    String hard = "10.1.1.2:80";
    double[] failShare = {0.5, 1.0};  // soft, hard

    Map<String, Integer> last = Map.of();
    for (int round = 0; round < 15; round++) {
      last = round(gov, ticker, rnd, soft, hard, failShare);
    }
    assertThat(g.breakerState(hard)).as("a hard failure is ejected").isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(last).doesNotContainKey(hard);
    assertThat(g.breakerState(soft)).as("a soft failure is not").isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(last.getOrDefault(soft, 0)).as("it keeps its probes: %s", last).isPositive()
        .isLessThan(last.get(healthy) / 2);
    assertThat(g.factor(soft)).isLessThan(0.5);

    failShare[0] = 0;  // healed
    double before = g.factor(soft);
    for (int round = 0; round < 30 && g.factor(soft) < 0.99; round++) {
      round(gov, ticker, rnd, soft, hard, failShare);
      double now = g.factor(soft);
      assertThat(now).as("recovery never falls back (round %d)", round).isGreaterThanOrEqualTo(before - 1e-9);
      before = now;
    }
    assertThat(g.factor(soft)).as("recovered").isGreaterThanOrEqualTo(0.99);
    gov.close();
  }

  /** One second of calls: 1,000 choices, each reported with the instance's outcome and 5 ms. */
  private static Map<String, Integer> round(Governor gov, io.lodestar.client.governance.FakeTicker ticker,
      SplittableRandom rnd, String soft, String hard, double[] failShare) {
    Map<String, Integer> served = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      Instance in = gov.choose("coop", CallContext.empty());
      served.merge(in.id(), 1, Integer::sum);
      double share = in.id().equals(soft) ? failShare[0] : in.id().equals(hard) ? failShare[1] : 0;
      boolean ok = !(share > 0 && rnd.nextDouble() < share);
      gov.report(in, ok ? Outcome.SUCCESS : Outcome.FAILURE, 5_000_000L);
      ticker.advanceNanos(1_000_000L);
    }
    return served;
  }

  @Test
  void decoratorFeedsTheBreakerWhichEjectsAFailingInstance() throws Exception {
    register("breaking", 3, "1");
    putRule("breaking", "circuitbreaker", "{\"instance\":{\"consecutiveErrors\":3,\"openMs\":600000}}");
    Governor gov = Governor.builder(consumer).build();
    await().atMost(Duration.ofSeconds(30)).until(() -> gov.governor("default", "breaking").rules().hasCircuitBreaker()
        && gov.governor("default", "breaking").size() == 3);
    String bad = "10.1.1.0:80";
    Map<String, Integer> served = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      try {
        gov.call("breaking", CallContext.empty(), in -> {
          if (in.id().equals(bad)) {
            throw new IOException("connection refused");
          }
          served.merge(in.id(), 1, Integer::sum);
          return "ok";
        });
      } catch (IOException expected) {
        // the failing instance's calls
      }
    }
    assertThat(gov.governor("default", "breaking").breakerState(bad)).isEqualTo(CircuitBreaker.State.OPEN);
    Map<String, Integer> after = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      after.merge(gov.call("breaking", CallContext.empty(), Instance::id), 1, Integer::sum);
    }
    assertThat(after).doesNotContainKey(bad);
    gov.close();
  }

  @Test
  void namespaceDefaultsReachTheSdkAsEffectiveRules() throws Exception {
    register("defaults", 1, "1");
    Governor gov = Governor.builder(consumer).build();
    await().atMost(Duration.ofSeconds(30)).until(() -> gov.governor("default", "defaults").size() == 1);
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.address()
        + "/v1/namespaces/default/rules/circuitbreaker")).PUT(HttpRequest.BodyPublishers.ofString(
        "{\"maxEjectionShare\":0.25}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() ->
        io.lodestar.client.internal.RuleSet.proto(gov.governor("default", "defaults").rules()).getCircuitbreaker().getMaxEjectionShare() == 0.25);
    HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.address()
        + "/v1/namespaces/default/rules/circuitbreaker")).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(30)).until(() -> !gov.governor("default", "defaults").rules().hasCircuitBreaker());
    gov.close();
  }

  @Test
  void rateLimitRuleRefusesBeyondTheLimit() throws Exception {
    register("limited", 1, "1");
    putRule("limited", "ratelimit", "{\"rules\":[{\"name\":\"per-minute\",\"limit\":5,\"intervalMs\":60000}]}");
    Governor gov = Governor.builder(consumer).build();
    await().atMost(Duration.ofSeconds(30)).until(() -> gov.governor("default", "limited").rules().hasRateLimit());
    CallContext ctx = CallContext.empty();
    for (int i = 0; i < 5; i++) {
      assertThat(gov.decorateSupplier("limited", ctx, Instance::id).get()).isEqualTo("10.1.1.0:80");
    }
    assertThatThrownBy(() -> gov.decorateSupplier("limited", ctx, Instance::id).get())
        .isInstanceOf(GovernanceException.class).hasMessageContaining("per-minute");
    assertThat(gov.decorateCompletionStage("limited", ctx, in -> java.util.concurrent.CompletableFuture
        .completedFuture(in.id())).get().toCompletableFuture().isCompletedExceptionally()).isTrue();
    gov.close();
  }
}
