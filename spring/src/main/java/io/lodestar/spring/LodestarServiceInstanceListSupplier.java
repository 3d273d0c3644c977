package io.lodestar.spring;

import java.util.List;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import reactor.core.publisher.Flux;

/**
 * The instance list for Spring Cloud LoadBalancer, read from the SDK's pushed cache on every
 * subscription. Nothing caches it in between (the starter turns Spring's 35 s list cache off), so a
 * removed or failed instance leaves the list as soon as the push arrives.
 */
public class LodestarServiceInstanceListSupplier implements ServiceInstanceListSupplier {
  private final LodestarDiscoveryClient discovery;
  private final String serviceId;

  public LodestarServiceInstanceListSupplier(LodestarDiscoveryClient discovery, String serviceId) {
    this.discovery = discovery;
    this.serviceId = serviceId;
  }

  @Override
  public String getServiceId() {
    return serviceId;
  }

  @Override
  public Flux<List<ServiceInstance>> get() {
    return Flux.defer(() -> Flux.just(discovery.getInstances(serviceId)));
  }
}
