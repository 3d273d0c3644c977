package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.cloud.endpoint.event.RefreshEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;

/** Refresh on pushed config versions, when the application imported any {@code lodestar:} config. */
@AutoConfiguration(after = LodestarAutoConfiguration.class)
@ConditionalOnClass(RefreshEvent.class)
@ConditionalOnProperty(prefix = "lodestar.config", name = "enabled", matchIfMissing = true)
@ConditionalOnBean({LodestarClient.class, LodestarConfigState.class})
public class LodestarConfigAutoConfiguration {
  @Bean
  LodestarConfigRefresher lodestarConfigRefresher(LodestarClient client, LodestarConfigState state,
      ApplicationEventPublisher publisher) {
    return new LodestarConfigRefresher(client, state, publisher);
  }
}
