package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.cloud.client.ConditionalOnDiscoveryEnabled;
import org.springframework.cloud.client.ConditionalOnReactiveDiscoveryEnabled;
import org.springframework.cloud.client.serviceregistry.AutoServiceRegistrationAutoConfiguration;
import org.springframework.cloud.client.serviceregistry.AutoServiceRegistrationProperties;
import org.springframework.cloud.commons.util.InetUtils;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Discovery ({@code DiscoveryClient}, {@code ReactiveDiscoveryClient}) and registration
 * ({@code ServiceRegistry} + auto-registration) through the SDK.
 */
@AutoConfiguration(after = {LodestarAutoConfiguration.class, AutoServiceRegistrationAutoConfiguration.class})
@ConditionalOnDiscoveryEnabled
@ConditionalOnProperty(prefix = "lodestar.discovery", name = "enabled", matchIfMissing = true)
@ConditionalOnBean(LodestarClient.class)
public class LodestarDiscoveryAutoConfiguration {
  @Bean
  @ConditionalOnMissingBean
  ServiceCatalog lodestarServiceCatalog(LodestarProperties properties) {
    return new ServiceCatalog(properties.serverList(), properties.clientTls());
  }

  /** Also the load balancer's list supplier, so it exists whenever discovery is on. */
  @Bean
  @ConditionalOnMissingBean
  LodestarDiscoveryClient lodestarDiscoveryClient(LodestarClient client, LodestarProperties properties,
      ServiceCatalog catalog) {
    return new LodestarDiscoveryClient(client, properties.getNamespace(), catalog);
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnReactiveDiscoveryEnabled
  @ConditionalOnClass(name = "reactor.core.publisher.Flux")
  static class Reactive {
    @Bean
    @ConditionalOnMissingBean
    LodestarReactiveDiscoveryClient lodestarReactiveDiscoveryClient(LodestarDiscoveryClient blocking) {
      return new LodestarReactiveDiscoveryClient(blocking);
    }
  }

  @Bean
  @ConditionalOnMissingBean
  LodestarServiceRegistry lodestarServiceRegistry(LodestarClient client) {
    return new LodestarServiceRegistry(client);
  }

  /** Same switch as Spring Cloud's own auto-registration (whose properties bean it needs). */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(value = "spring.cloud.service-registry.auto-registration.enabled", matchIfMissing = true)
  static class AutoRegistration {
    @Bean
    @ConditionalOnMissingBean
    LodestarRegistration lodestarRegistration(LodestarProperties properties, Environment env, InetUtils inet) {
      String app = env.getProperty("spring.application.name", "application");
      return new LodestarRegistration(properties.getNamespace(), app, host(properties, env, inet),
          properties.getDiscovery().getWeight(), metadata(properties, env));
    }

    @Bean
    @ConditionalOnMissingBean
    LodestarAutoServiceRegistration lodestarAutoServiceRegistration(LodestarServiceRegistry registry,
        AutoServiceRegistrationProperties auto, LodestarRegistration registration, LodestarProperties properties) {
      return new LodestarAutoServiceRegistration(registry, auto, registration, properties);
    }

    @Bean
    LodestarAutoServiceRegistration.OnClose lodestarDeregisterOnClose(ApplicationContext context,
        LodestarAutoServiceRegistration registration) {
      return new LodestarAutoServiceRegistration.OnClose(context, registration);
    }

    /**
     * lodestar.discovery.host, else server.address (an application bound to one address must not
     * register another it does not listen on), else Spring Cloud's choice of a non-loopback address.
     */
    static String host(LodestarProperties properties, Environment env, InetUtils inet) {
      String host = properties.getDiscovery().getHost();
      if (host != null && !host.isBlank()) {
        return host.trim();
      }
      String bound = env.getProperty("server.address");
      if (bound != null && !bound.isBlank() && !bound.equals("0.0.0.0") && !bound.equals("::")) {
        return bound.trim();
      }
      return inet.findFirstNonLoopbackHostInfo().getIpAddress();
    }

    /** The configured metadata; zone also from Spring Cloud LoadBalancer's own zone setting. */
    static Map<String, String> metadata(LodestarProperties properties, Environment env) {
      Map<String, String> m = new LinkedHashMap<>(properties.getDiscovery().getMetadata());
      String zone = env.getProperty("spring.cloud.loadbalancer.zone");
      if (zone != null && !zone.isBlank()) {
        m.putIfAbsent("zone", zone);
      }
      return m;
    }
  }
}
