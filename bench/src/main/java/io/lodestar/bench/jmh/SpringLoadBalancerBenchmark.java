package io.lodestar.bench.jmh;

import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.client.Instance;
import io.lodestar.api.v1.Match;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.client.governance.RandomSource;
import io.lodestar.client.governance.ServiceGovernor;
import io.lodestar.client.governance.Ticker;
import io.lodestar.client.ratelimit.Sleeper;
import io.lodestar.spring.LodestarLoadBalancer;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.loadbalancer.DefaultRequest;
import org.springframework.cloud.client.loadbalancer.Request;
import org.springframework.cloud.client.loadbalancer.RequestData;
import org.springframework.cloud.client.loadbalancer.RequestDataContext;
import org.springframework.cloud.client.loadbalancer.Response;
import org.springframework.cloud.loadbalancer.core.RoundRobinLoadBalancer;
import org.springframework.cloud.loadbalancer.support.ServiceInstanceListSuppliers;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;

/**
 * Per-call cost of Spring Cloud LoadBalancer's choice: its default {@code RoundRobinLoadBalancer}
 * over a fixed list, against the starter's {@code LodestarLoadBalancer} (route rule on a header,
 * breaker filter, balancer), both called as Spring calls them ({@code choose(request).block()})
 * with the same request (path and four headers). {@code governance=plain}: no rules (weighted
 * random); {@code canary}: a header route rule (5 % to version 2) and the adaptive balancer.
 * The Lodestar side includes building the call context from the request's headers.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpringLoadBalancerBenchmark {
  @Param({"3", "30"})
  public int instances;

  @Param({"plain", "canary"})
  public String governance;

  private RoundRobinLoadBalancer spring;
  private LodestarLoadBalancer lodestar;
  private Request<RequestDataContext> request;

  @Setup
  public void setup() {
    List<Instance> list = new ArrayList<>();
    ServiceInstance[] springList = new ServiceInstance[instances];
    for (int i = 0; i < instances; i++) {
      list.add(Instance.builder().namespace("default").service("payments").id("10.0.0." + i + ":8080")
          .host("10.0.0." + i).port(8080).weight(100).health(Instance.Health.HEALTHY)
          .putMetadata("version", i % 20 == 19 ? "2" : "1").build());
      springList[i] = new DefaultServiceInstance("10.0.0." + i + ":8080", "payments", "10.0.0." + i, 8080, false);
    }
    spring = new RoundRobinLoadBalancer(ServiceInstanceListSuppliers.toProvider("payments", springList), "payments");

    GovernanceRules.Builder rules = GovernanceRules.newBuilder();
    if (governance.equals("canary")) {
      rules.getLoadbalanceBuilder().setPolicy(io.lodestar.api.v1.LoadBalanceRule.Policy.ADAPTIVE);
      rules.setRoute(RouteRules.newBuilder().addRules(RouteRule.newBuilder().setName("canary")
          .setMatch(Match.newBuilder().putHeaders("x-canary", MatchValue.newBuilder().setExact("1").build()))
          .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(95))
          .addDestinations(Destination.newBuilder().putSubset("version", "2").setWeight(5))));
    }
    ServiceGovernor governor = new ServiceGovernor("default/payments", Map.of("zone", "z1"), Ticker.system(),
        RandomSource.threadLocal(), Sleeper.system());
    governor.update(list, io.lodestar.client.internal.RuleSet.of(rules.build()));
    lodestar = new LodestarLoadBalancer("payments", governor::choose);

    HttpHeaders headers = new HttpHeaders();
    headers.add("accept", "application/json");
    headers.add("x-canary", "1");
    headers.add("x-request-id", "3f2a9c");
    headers.add("user-agent", "bench");
    request = new DefaultRequest<>(new RequestDataContext(new RequestData(HttpMethod.GET,
        URI.create("http://payments/pay"), headers, null, Map.of())));
  }

  @Benchmark
  public Response<ServiceInstance> springRoundRobin() {
    return spring.choose(request).block();
  }

  @Benchmark
  public Response<ServiceInstance> lodestarGoverned() {
    return lodestar.choose(request).block();
  }
}
