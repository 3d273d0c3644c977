package io.lodestar.spring;

import io.lodestar.client.ClientStatus;
import io.lodestar.client.LodestarClient;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

/**
 * Actuator health {@code lodestar}: UP when the SDK's stream is connected; {@code SERVING_FROM_CACHE}
 * when no server answers but the application keeps working from the lists and configs it holds
 * (reported as healthy: a registry outage must not take the fleet out of its own load balancers);
 * DOWN while it has never connected, or once closed. Details: state, server, since, detail.
 */
public class LodestarHealthIndicator extends AbstractHealthIndicator {
  public static final Status SERVING_FROM_CACHE = new Status("SERVING_FROM_CACHE",
      "no Lodestar server reachable; serving the last known lists and configs");
  private final LodestarClient client;

  public LodestarHealthIndicator(LodestarClient client) {
    super("Lodestar health check failed");
    this.client = client;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    ClientStatus s = client.status();
    switch (s.state()) {
      case CONNECTED -> builder.up();
      case DISCONNECTED_SERVING_CACHE -> builder.status(SERVING_FROM_CACHE);
      default -> builder.down();
    }
    builder.withDetail("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
    if (s.server() != null) {
      builder.withDetail("server", s.server());
    }
    if (s.since() != null) {
      builder.withDetail("since", s.since().toString());
    }
    if (s.detail() != null && !s.detail().isEmpty()) {
      builder.withDetail("detail", s.detail());
    }
  }
}
