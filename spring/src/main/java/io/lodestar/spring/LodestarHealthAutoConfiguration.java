package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/** The {@code lodestar} health indicator, when Actuator is present. */
@AutoConfiguration(after = LodestarAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
@ConditionalOnBean(LodestarClient.class)
@ConditionalOnEnabledHealthIndicator("lodestar")
public class LodestarHealthAutoConfiguration {
  @Bean
  @ConditionalOnMissingBean(name = "lodestarHealthIndicator")
  LodestarHealthIndicator lodestarHealthIndicator(LodestarClient client) {
    return new LodestarHealthIndicator(client);
  }
}
