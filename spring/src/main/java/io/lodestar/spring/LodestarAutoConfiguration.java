package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.governance.Governor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The SDK client and its {@link Governor}, shared by registration, discovery, load balancing and
 * config. When a {@code lodestar:} config import already created the client at bootstrap, that
 * one is reused (it was promoted into the context), so an application holds one stream.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "lodestar", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(LodestarProperties.class)
public class LodestarAutoConfiguration {
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  LodestarClient lodestarClient(LodestarProperties properties) {
    return LodestarClients.create(properties);
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  Governor lodestarGovernor(LodestarClient client, LodestarProperties properties,
      org.springframework.core.env.Environment env) {
    // the application is the caller of every edge in the call statistics
    return Governor.builder(client).namespace(properties.getNamespace())
        .callerLabels(properties.getDiscovery().getMetadata())
        .callerService(env.getProperty("spring.application.name", "")).build();
  }
}
