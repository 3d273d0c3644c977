package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.cloud.client.serviceregistry.ServiceRegistry;

/**
 * Registers through the SDK: the instance is ephemeral, owned by the client's stream (heartbeats,
 * re-registration after a reconnect or a server failover), and leaves at once on deregistration.
 */
public class LodestarServiceRegistry implements ServiceRegistry<LodestarRegistration> {
  private static final Log log = LogFactory.getLog(LodestarServiceRegistry.class);
  private final LodestarClient client;

  public LodestarServiceRegistry(LodestarClient client) {
    this.client = client;
  }

  @Override
  public void register(LodestarRegistration r) {
    RegistrationSpec.Builder spec = RegistrationSpec.builder().namespace(r.getNamespace()).service(r.getServiceId())
        .host(r.getHost()).port(r.getPort()).metadata(r.getMetadata()).protocol(r.isSecure() ? "https" : "http");
    if (r.getWeight() != null) {
      spec.weight(r.getWeight());
    }
    client.register(spec.build());
    log.info("registered " + r.getServiceId() + " " + r.getInstanceId() + " in namespace " + r.getNamespace());
  }

  @Override
  public void deregister(LodestarRegistration r) {
    try {
      client.deregister(r.getNamespace(), r.getServiceId(), r.getInstanceId());
      log.info("deregistered " + r.getServiceId() + " " + r.getInstanceId());
    } catch (RuntimeException e) {
      // shutting down anyway: the instance leaves with the client's stream (Goodbye) or expires
      log.warn("could not deregister " + r.getServiceId() + " " + r.getInstanceId() + ": " + e.getMessage());
    }
  }

  @Override
  public void close() {
    // the client belongs to the context; it closes with it
  }

  @Override
  public void setStatus(LodestarRegistration registration, String status) {
    throw new UnsupportedOperationException("Lodestar instances have health, not a settable status");
  }

  @Override
  public <T> T getStatus(LodestarRegistration registration) {
    return null;
  }
}
