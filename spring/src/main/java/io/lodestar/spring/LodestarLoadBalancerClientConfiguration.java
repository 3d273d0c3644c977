package io.lodestar.spring;

import io.lodestar.client.governance.Governor;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.loadbalancer.core.ReactorLoadBalancer;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import org.springframework.cloud.loadbalancer.support.LoadBalancerClientFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * The default configuration of every Spring Cloud LoadBalancer client (one child context per
 * service): the governed balancer and the pushed list. Registered through
 * {@code @LoadBalancerClients(defaultConfiguration = …)}; Spring's defaults step back because they
 * are {@code @ConditionalOnMissingBean}. Not a scanned {@code @Configuration}, on purpose: it must
 * only live in those child contexts.
 */
public class LodestarLoadBalancerClientConfiguration {
  @Bean
  ReactorLoadBalancer<ServiceInstance> lodestarLoadBalancer(Environment env, ObjectProvider<Governor> governor,
      ObjectProvider<LodestarProperties> properties) {
    String serviceId = env.getProperty(LoadBalancerClientFactory.PROPERTY_NAME);
    return new LodestarLoadBalancer(governor.getObject(), properties.getObject().getNamespace(), serviceId);
  }

  @Bean
  ServiceInstanceListSupplier lodestarServiceInstanceListSupplier(Environment env,
      ObjectProvider<LodestarDiscoveryClient> discovery) {
    return new LodestarServiceInstanceListSupplier(discovery.getObject(),
        env.getProperty(LoadBalancerClientFactory.PROPERTY_NAME));
  }
}
