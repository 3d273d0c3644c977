package io.lodestar.examples.orders;

import jakarta.servlet.http.HttpServletRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.context.annotation.Bean;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * orders: calls payments by name through a {@code @LoadBalanced} RestClient (Lodestar's governance
 * chooses the instance) and greets with {@code orders.greeting}, imported from the Lodestar config
 * {@code orders/orders.properties} and refreshed when it is published. Nothing in this class knows
 * about Lodestar.
 */
@SpringBootApplication
@RestController
@EnableConfigurationProperties(OrdersApplication.Greeting.class)
public class OrdersApplication {
  private final RestClient payments;
  private final Greeting greeting;

  public OrdersApplication(RestClient.Builder http, Greeting greeting) {
    this.payments = http.baseUrl("http://payments").build();
    this.greeting = greeting;
  }

  public static void main(String[] args) {
    builder().run(args);
  }

  /** The application with its settings file, {@code orders.yaml} (named apart, so both apps can share a classpath in tests). */
  public static SpringApplicationBuilder builder() {
    return new SpringApplicationBuilder(OrdersApplication.class).properties("spring.config.name=orders");
  }

  @Bean
  @LoadBalanced
  static RestClient.Builder loadBalancedRestClientBuilder() {
    return RestClient.builder();
  }

  /** Places an order: pays through payments (passing the canary header on) and greets. */
  @GetMapping("/order")
  Map<String, Object> order(HttpServletRequest request) {
    Map<String, Object> paid = payments.get().uri("/pay")
        .headers(h -> {
          String canary = request.getHeader("x-canary");
          if (canary != null) {
            h.set("x-canary", canary);
          }
        })
        .retrieve().body(new ParameterizedTypeReference<Map<String, Object>>() {});
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("greeting", greeting.getGreeting());
    answer.put("payment", paid);
    return answer;
  }

  @GetMapping("/greeting")
  String greeting() {
    return greeting.getGreeting();
  }

  /** {@code orders.greeting}: rebound on every refresh. */
  @ConfigurationProperties("orders")
  public static class Greeting {
    private String greeting = "hello";

    public String getGreeting() {
      return greeting;
    }

    public void setGreeting(String greeting) {
      this.greeting = greeting;
    }
  }
}
