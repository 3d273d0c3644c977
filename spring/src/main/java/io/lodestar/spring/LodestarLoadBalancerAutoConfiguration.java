package io.lodestar.spring;

import io.lodestar.client.governance.Governor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.cloud.client.ConditionalOnDiscoveryEnabled;
import org.springframework.cloud.loadbalancer.annotation.LoadBalancerClients;
import org.springframework.cloud.loadbalancer.config.LoadBalancerAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * Makes the governed balancer every LoadBalancer client's default, and reports outcomes.
 */
@AutoConfiguration(after = LodestarDiscoveryAutoConfiguration.class, before = LoadBalancerAutoConfiguration.class)
@ConditionalOnDiscoveryEnabled
@ConditionalOnProperty(prefix = "lodestar.discovery", name = "enabled", matchIfMissing = true)
@ConditionalOnProperty(name = "spring.cloud.loadbalancer.enabled", matchIfMissing = true)
@ConditionalOnBean(Governor.class)
@LoadBalancerClients(defaultConfiguration = LodestarLoadBalancerClientConfiguration.class)
public class LodestarLoadBalancerAutoConfiguration {
  @Bean
  @ConditionalOnMissingBean
  LodestarCallReporter lodestarCallReporter(Governor governor) {
    return new LodestarCallReporter(governor);
  }
}
