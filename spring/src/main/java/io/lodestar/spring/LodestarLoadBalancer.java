package io.lodestar.spring;

import io.lodestar.client.Instance;
import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.route.CallContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.loadbalancer.DefaultResponse;
import org.springframework.cloud.client.loadbalancer.EmptyResponse;
import org.springframework.cloud.client.loadbalancer.Request;
import org.springframework.cloud.client.loadbalancer.Response;
import org.springframework.cloud.loadbalancer.core.ReactorServiceInstanceLoadBalancer;
import reactor.core.publisher.Mono;

/**
 * Spring Cloud LoadBalancer's choice, made by {@code Governor.choose()}: route rules (on the path,
 * the headers, the hint and the caller's labels), breaker ejection, nearby tiers and the service's
 * balancing policy (weighted random, round robin, least request, hashing, adaptive), all pushed
 * from the server. Applies to {@code @LoadBalanced} RestTemplate, RestClient and WebClient, and to
 * OpenFeign. The outcome comes back through {@link LodestarCallReporter}.
 *
 * <p>The choice is a local read; only a service's first call waits for its list.
 */
public class LodestarLoadBalancer implements ReactorServiceInstanceLoadBalancer {
  private static final Log log = LogFactory.getLog(LodestarLoadBalancer.class);
  /** Bounds {@link #views}: ids of instances long gone are dropped wholesale past this many. */
  private static final int MAX_VIEWS = 4096;
  private final String serviceId;
  private final Function<CallContext, Instance> chooser;
  /**
   * The Spring view of each chosen instance, reused while the SDK hands out the same (immutable)
   * instance object, so a pick does not copy the instance's metadata every time.
   */
  private final ConcurrentHashMap<String, LodestarServiceInstance> views = new ConcurrentHashMap<>();

  /** Chooses with the application's Governor. */
  public LodestarLoadBalancer(Governor governor, String namespace, String serviceId) {
    this(serviceId, ctx -> governor.choose(namespace, serviceId, ctx));
  }

  /** Chooses with any governed choice of the SDK (benchmarks pass a bare ServiceGovernor). */
  public LodestarLoadBalancer(String serviceId, Function<CallContext, Instance> chooser) {
    this.serviceId = serviceId;
    this.chooser = chooser;
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Mono<Response<ServiceInstance>> choose(Request request) {
    return Mono.fromSupplier(() -> pick(request));
  }

  private LodestarServiceInstance view(Instance chosen) {
    LodestarServiceInstance v = views.get(chosen.id());
    if (v == null || v.instance() != chosen) {
      if (views.size() >= MAX_VIEWS) {
        views.clear();
      }
      v = new LodestarServiceInstance(chosen);
      views.put(chosen.id(), v);
    }
    return v;
  }

  Response<ServiceInstance> pick(Request<?> request) {
    try {
      Instance chosen = chooser.apply(SpringCallContexts.of(request));
      return new DefaultResponse(view(chosen));
    } catch (GovernanceException e) {
      log.debug("no instance of " + serviceId + ": " + e.getMessage());
      return new EmptyResponse();
    } catch (RuntimeException e) {  // the SDK could not get the list (timeout, closed, bad name)
      log.warn("no instance of " + serviceId + ": " + e.getMessage());
      return new EmptyResponse();
    }
  }
}
