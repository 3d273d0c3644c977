package io.lodestar.spring;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;

/**
 * Lanes in a servlet application (docs/spring.md#lanes): the inbound {@code x-lodestar-lane} is
 * kept for the request ({@link LodestarLaneFilter}, first in the chain) and sent on by every
 * {@code RestTemplate} and {@code RestClient.Builder} bean ({@link LodestarLaneInterceptor}).
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "lodestar", name = "enabled", matchIfMissing = true)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(name = "jakarta.servlet.Filter")
public class LodestarLaneAutoConfiguration {
  @Bean
  FilterRegistrationBean<LodestarLaneFilter> lodestarLaneFilter() {
    FilterRegistrationBean<LodestarLaneFilter> r = new FilterRegistrationBean<>(new LodestarLaneFilter());
    r.setOrder(Ordered.HIGHEST_PRECEDENCE);
    return r;
  }

  @Bean
  static BeanPostProcessor lodestarLanePropagation() {
    LodestarLaneInterceptor interceptor = new LodestarLaneInterceptor();
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String name) {
        if (bean instanceof RestTemplate t && !t.getInterceptors().contains(interceptor)) {
          t.getInterceptors().add(0, interceptor);
        } else if (bean instanceof RestClient.Builder b) {
          b.requestInterceptors(list -> list.add(0, interceptor));
        }
        return bean;
      }
    };
  }
}
