package io.lodestar.spring;

import io.lodestar.client.Instance;
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
    Map<String, String> m = new HashMap<>(instance.metadata());
    m.put("weight", Integer.toString(instance.weight()));
    m.put("healthy", Boolean.toString(instance.healthy()));
    this.metadata = Map.copyOf(m);
  }

  Instance instance() {
    return instance;
  }

  @Override
  public String getInstanceId() {
    return instance.id();
  }

  @Override
  public String getServiceId() {
    return instance.service();
  }

  @Override
  public String getHost() {
    return instance.host();
  }

  @Override
  public int getPort() {
    return instance.port();
  }

  @Override
  public boolean isSecure() {
    return Boolean.parseBoolean(metadata.get("secure")) || "https".equals(instance.protocol());
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
    return "LodestarServiceInstance{" + instance.service() + " " + instance.id() + "}";
  }
}
