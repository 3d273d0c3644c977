package io.lodestar.spring;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Defaults the starter needs from Spring Cloud, at the lowest precedence (an application's own
 * setting wins): LoadBalancer's instance-list cache off, because Lodestar's lists are pushed and
 * already local, and a 35 s cache would keep a dead instance in rotation after the push removed it
 * (it also silences the "default cache" warning without adding Caffeine).
 */
public class LodestarDefaultsEnvironmentPostProcessor implements EnvironmentPostProcessor {
  static final String NAME = "lodestarDefaults";

  @Override
  public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
    if (!environment.getPropertySources().contains(NAME)) {
      environment.getPropertySources().addLast(new MapPropertySource(NAME,
          Map.of("spring.cloud.loadbalancer.cache.enabled", "false")));
    }
  }
}
