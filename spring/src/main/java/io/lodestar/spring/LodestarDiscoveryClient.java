package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.LodestarClientException;
import java.util.List;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;

/**
 * {@link DiscoveryClient} over the SDK's pushed cache: the first lookup of a service subscribes to
 * it (and waits for its list, as the SDK's reads do); every later one is a local read, kept current
 * by the server's pushes, so no request reaches the server per call. Answers the healthy instances
 * (all of them, each marked, when the service's protection threshold applies).
 */
public class LodestarDiscoveryClient implements DiscoveryClient {
  private static final Log log = LogFactory.getLog(LodestarDiscoveryClient.class);
  private final LodestarClient client;
  private final String namespace;
  private final ServiceCatalog catalog;

  public LodestarDiscoveryClient(LodestarClient client, String namespace, ServiceCatalog catalog) {
    this.client = client;
    this.namespace = namespace;
    this.catalog = catalog;
  }

  @Override
  public String description() {
    return "Lodestar discovery client (namespace " + namespace + ")";
  }

  @Override
  public List<ServiceInstance> getInstances(String serviceId) {
    try {
      return client.getHealthyInstances(namespace, serviceId).stream()
          .<ServiceInstance>map(LodestarServiceInstance::new).toList();
    } catch (LodestarClientException | IllegalArgumentException e) {
      log.debug("no instances of " + serviceId + ": " + e.getMessage());
      return List.of();
    }
  }

  @Override
  public List<String> getServices() {
    return catalog.services(namespace);
  }

  @Override
  public int getOrder() {
    return DiscoveryClient.DEFAULT_ORDER;
  }
}
