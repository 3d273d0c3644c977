package io.lodestar.spring;

import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.ReactiveDiscoveryClient;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * {@link ReactiveDiscoveryClient} over the same pushed cache. A service's first lookup may wait
 * for its list, so lookups run on the bounded-elastic scheduler rather than an event loop; later
 * ones are local reads.
 */
public class LodestarReactiveDiscoveryClient implements ReactiveDiscoveryClient {
  private final LodestarDiscoveryClient blocking;

  public LodestarReactiveDiscoveryClient(LodestarDiscoveryClient blocking) {
    this.blocking = blocking;
  }

  @Override
  public String description() {
    return blocking.description();
  }

  @Override
  public Flux<ServiceInstance> getInstances(String serviceId) {
    return Flux.defer(() -> Flux.fromIterable(blocking.getInstances(serviceId))).subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public Flux<String> getServices() {
    return Flux.defer(() -> Flux.fromIterable(blocking.getServices())).subscribeOn(Schedulers.boundedElastic());
  }
}
