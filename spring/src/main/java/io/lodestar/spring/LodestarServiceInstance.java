package io.lodestar.spring;

import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;

/**
 * A Lodestar instance as Spring Cloud sees it. The metadata is the instance's own, plus
 * {@code weight}, {@code healthy} and (when the instance sets them) {@code zone} and
 * {@code version}, so Spring's weighted and zone suppliers and application code can read them.
 * Keeps the SDK instance, which the load balancer reports outcomes against.
 */
public final class LodestarServiceInstance implements ServiceInstance {
  private final Instance instance;
  private final Map<String, String> metadata;

  LodestarServiceInstance(Instance instance) {
    this.instance = instance;
    Map<String, String> m = new HashMap<>(instance.getMetadataMap());
    m.put("weight", Integer.toString(instance.hasWeight() ? instance.getWeight() : 100));
    m.put("healthy", Boolean.toString(instance.getHealth() != HealthStatus.UNHEALTHY));
    this.metadata = Map.copyOf(m);
  }

  Instance instance() {
    return instance;
  }

  @Override
  public String getInstanceId() {
    return instance.getId();
  }

  @Override
  public String getServiceId() {
    return instance.getService();
  }

  @Override
  public String getHost() {
    return instance.getHost();
  }

  @Override
  public int getPort() {
    return instance.getPort();
  }

  @Override
  public boolean isSecure() {
    return Boolean.parseBoolean(metadata.get("secure")) || "https".equals(instance.getProtocol());
  }

  @Override
  public URI getUri() {
    return DefaultServiceInstance.getUri(this);
  }

  @Override
  public Map<String, String> getMetadata() {
    return metadata;
  }

  @Override
  public String toString() {
    return "LodestarServiceInstance{" + instance.getService() + " " + instance.getId() + "}";
  }
}
