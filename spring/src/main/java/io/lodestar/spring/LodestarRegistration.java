package io.lodestar.spring;

import java.net.URI;
import java.util.Map;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.serviceregistry.Registration;

/**
 * This application as an instance: {@code spring.application.name} on the web server's port, at
 * the chosen host, with {@code lodestar.discovery.metadata.*}. The port is known only once the web
 * server has started, which is when Spring Cloud registers.
 */
public class LodestarRegistration implements Registration {
  private final String namespace;
  private final String serviceId;
  private final String host;
  private final Integer weight;
  private final Map<String, String> metadata;
  private volatile int port;

  public LodestarRegistration(String namespace, String serviceId, String host, Integer weight,
      Map<String, String> metadata) {
    this.namespace = namespace;
    this.serviceId = serviceId;
    this.host = host;
    this.weight = weight;
    this.metadata = Map.copyOf(metadata);
  }

  public String getNamespace() {
    return namespace;
  }

  public Integer getWeight() {
    return weight;
  }

  void setPort(int port) {
    this.port = port;
  }

  @Override
  public String getInstanceId() {
    return host + ":" + port;
  }

  @Override
  public String getServiceId() {
    return serviceId;
  }

  @Override
  public String getHost() {
    return host;
  }

  @Override
  public int getPort() {
    return port;
  }

  @Override
  public boolean isSecure() {
    return Boolean.parseBoolean(metadata.get("secure"));
  }

  @Override
  public URI getUri() {
    return DefaultServiceInstance.getUri(this);
  }

  @Override
  public Map<String, String> getMetadata() {
    return metadata;
  }
}
