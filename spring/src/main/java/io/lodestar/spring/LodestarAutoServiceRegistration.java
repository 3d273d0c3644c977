package io.lodestar.spring;

import java.time.Duration;
import org.springframework.cloud.client.serviceregistry.AbstractAutoServiceRegistration;
import org.springframework.cloud.client.serviceregistry.AutoServiceRegistrationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;

/**
 * Registers when the web server is ready (Spring Cloud calls us on {@code WebServerInitializedEvent},
 * with the port it listens on) and deregisters when the context starts closing, before the web
 * server stops: the instance leaves callers' lists while it still answers, and keeps answering for
 * {@code lodestar.discovery.deregister-delay} so the change reaches them. Graceful shutdown thus
 * loses no call.
 */
public class LodestarAutoServiceRegistration extends AbstractAutoServiceRegistration<LodestarRegistration> {
  private final LodestarRegistration registration;
  private final LodestarProperties properties;

  public LodestarAutoServiceRegistration(LodestarServiceRegistry registry, AutoServiceRegistrationProperties auto,
      LodestarRegistration registration, LodestarProperties properties) {
    super(registry, auto);
    this.registration = registration;
    this.properties = properties;
  }

  @Override
  protected Object getConfiguration() {
    return properties;
  }

  @Override
  protected boolean isEnabled() {
    return properties.getDiscovery().isEnabled();
  }

  @Override
  @SuppressWarnings("deprecation")
  protected void register() {
    registration.setPort(getPort().get());
    super.register();
  }

  @Override
  protected LodestarRegistration getRegistration() {
    return registration;
  }

  @Override
  protected LodestarRegistration getManagementRegistration() {
    return null;
  }

  @Override
  protected void deregister() {
    super.deregister();
    Duration delay = properties.getDiscovery().getDeregisterDelay();
    if (delay != null && !delay.isZero() && !delay.isNegative()) {
      try {
        // a drain period, not synchronisation: callers learn of the removal by push, within milliseconds
        // normally; until then this instance must still answer what they send
        Thread.sleep(delay.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Deregisters when this application's context (not a load-balancer child context) starts closing. */
  static final class OnClose implements ApplicationListener<ContextClosedEvent> {
    private final ApplicationContext context;
    private final LodestarAutoServiceRegistration registration;

    OnClose(ApplicationContext context, LodestarAutoServiceRegistration registration) {
      this.context = context;
      this.registration = registration;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
      if (event.getApplicationContext() == context) {
        registration.stop();
      }
    }
  }
}
