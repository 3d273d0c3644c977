package io.lodestar.client;

import io.lodestar.api.Limits;
import io.lodestar.api.v1.Instance;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What to register: one ephemeral instance, owned by the registering client's stream and kept alive
 * by its heartbeats. Immutable; build with {@link #builder()}. Each setter rejects a bad value at
 * once with an {@link IllegalArgumentException} naming the field; {@link Builder#build()} checks
 * that the required fields (service, host, port) are set.
 */
public final class RegistrationSpec {
  public static final String DEFAULT_NAMESPACE = "default";

  private final String namespace;
  private final String service;
  private final String host;
  private final int port;
  private final Integer weight;
  private final Map<String, String> metadata;
  private final String protocol;
  private final int ttlSeconds;
  private final String id;

  private RegistrationSpec(Builder b) {
    this.namespace = b.namespace;
    this.service = b.service;
    this.host = b.host;
    this.port = b.port;
    this.weight = b.weight;
    this.metadata = Map.copyOf(b.metadata);
    this.protocol = b.protocol;
    this.ttlSeconds = b.ttlSeconds;
    this.id = b.id;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String namespace() {
    return namespace;
  }

  public String service() {
    return service;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** The weight, or null for the server default (100). */
  public Integer weight() {
    return weight;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public String protocol() {
    return protocol;
  }

  /** Seconds without heartbeat after which the instance turns unhealthy; 0 = server default. */
  public int ttlSeconds() {
    return ttlSeconds;
  }

  /** The requested id, or empty to let the server assign one ("host:port"). */
  public String id() {
    return id;
  }

  /** The wire form (id as requested, possibly empty). */
  Instance toInstance() {
    Instance.Builder b = Instance.newBuilder()
        .setNamespace(namespace)
        .setService(service)
        .setId(id)
        .setHost(host)
        .setPort(port)
        .setProtocol(protocol)
        .putAllMetadata(metadata)
        .setEphemeral(true)
        .setTtlSeconds(ttlSeconds);
    if (weight != null) {
      b.setWeight(weight);
    }
    return b.build();
  }

  @Override
  public String toString() {
    return namespace + "/" + service + "/" + (id.isEmpty() ? host + ":" + port : id);
  }

  public static final class Builder {
    private String namespace = DEFAULT_NAMESPACE;
    private String service;
    private String host;
    private int port;
    private Integer weight;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private String protocol = "";
    private int ttlSeconds;
    private String id = "";

    private Builder() {}

    /** Defaults to {@value RegistrationSpec#DEFAULT_NAMESPACE}. */
    public Builder namespace(String namespace) {
      this.namespace = Names.name("namespace", namespace);
      return this;
    }

    public Builder service(String service) {
      this.service = Names.name("service", service);
      return this;
    }

    public Builder host(String host) {
      this.host = Names.host("host", host);
      return this;
    }

    public Builder port(int port) {
      this.port = Names.port("port", port);
      return this;
    }

    /** 0–10000; 0 takes no traffic. Unset means the server default (100). */
    public Builder weight(int weight) {
      if (weight < 0 || weight > Limits.MAX_WEIGHT) {
        throw new IllegalArgumentException("weight must be within 0–" + Limits.MAX_WEIGHT + ", got " + weight);
      }
      this.weight = weight;
      return this;
    }

    /** Replaces the metadata. */
    public Builder metadata(Map<String, String> metadata) {
      Names.metadata("metadata", metadata);
      this.metadata.clear();
      this.metadata.putAll(metadata);
      return this;
    }

    public Builder putMetadata(String key, String value) {
      Map<String, String> next = new LinkedHashMap<>(metadata);
      next.put(key, value);
      Names.metadata("metadata", next);
      metadata.put(key, value);
      return this;
    }

    public Builder protocol(String protocol) {
      Objects.requireNonNull(protocol, "protocol");
      if (protocol.length() > Limits.MAX_PROTOCOL_LENGTH) {
        throw new IllegalArgumentException("protocol must have at most " + Limits.MAX_PROTOCOL_LENGTH + " characters");
      }
      this.protocol = protocol;
      return this;
    }

    /** Seconds without heartbeat before the instance turns unhealthy: 1–3600 (0 = server default, 10). */
    public Builder ttlSeconds(int ttlSeconds) {
      if (ttlSeconds < 0 || ttlSeconds > Limits.MAX_TTL_SECONDS) {
        throw new IllegalArgumentException("ttlSeconds must be within 1–" + Limits.MAX_TTL_SECONDS
            + " (0 = server default), got " + ttlSeconds);
      }
      this.ttlSeconds = ttlSeconds;
      return this;
    }

    /** The instance id; unset lets the server assign "host:port". */
    public Builder id(String id) {
      this.id = Names.name("id", id);
      return this;
    }

    public RegistrationSpec build() {
      if (service == null) {
        throw new IllegalArgumentException("service is required");
      }
      if (host == null) {
        throw new IllegalArgumentException("host is required");
      }
      if (port == 0) {
        throw new IllegalArgumentException("port is required");
      }
      return new RegistrationSpec(this);
    }
  }
}
