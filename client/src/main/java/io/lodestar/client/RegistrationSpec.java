package io.lodestar.client;

import io.lodestar.api.Limits;
import io.lodestar.api.v1.Instance;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What to register. By default an ephemeral instance, owned by the registering client's stream,
 * kept alive by its heartbeats and removed when the client closes or goes silent; with
 * {@link Builder#persistent(boolean) persistent(true)} one that stays until deregistered, probed by
 * the server when it has a check (as REST's {@code "ephemeral": false}). Immutable; build with
 * {@link #builder()}. Each setter rejects a bad value at
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
  private final boolean persistent;
  private final HealthCheck check;

  private RegistrationSpec(Builder b) {
    this.namespace = b.namespace;
    this.persistent = b.persistent;
    this.check = b.check;
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

  /** The namespace, or null when unset: the registering client's default namespace then applies. */
  public String namespace() {
    return namespace;
  }

  /** True for a persistent instance (stays until deregistered), false for an ephemeral one. */
  public boolean persistent() {
    return persistent;
  }

  /** The server's probe of a persistent instance, or null (none: always healthy). */
  public HealthCheck check() {
    return check;
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

  /** The wire form in the default namespace unless the spec names one. */
  Instance toInstance() {
    return toInstance(DEFAULT_NAMESPACE);
  }

  /** The wire form (id as requested, possibly empty), in this namespace unless the spec names one. */
  Instance toInstance(String defaultNamespace) {
    Instance.Builder b = Instance.newBuilder()
        .setNamespace(namespace != null ? namespace : defaultNamespace)
        .setService(service)
        .setId(id)
        .setHost(host)
        .setPort(port)
        .setProtocol(protocol)
        .putAllMetadata(metadata)
        .setEphemeral(!persistent)
        .setTtlSeconds(ttlSeconds);
    if (weight != null) {
      b.setWeight(weight);
    }
    if (check != null) {
      b.setCheck(check.toProto());
    }
    return b.build();
  }

  @Override
  public String toString() {
    return (namespace != null ? namespace + "/" : "") + service + "/" + (id.isEmpty() ? host + ":" + port : id);
  }

  public static final class Builder {
    private String namespace;
    private boolean persistent;
    private HealthCheck check;
    private String service;
    private String host;
    private int port;
    private Integer weight;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private String protocol = "";
    private int ttlSeconds;
    private String id = "";

    private Builder() {}

    /**
     * Unset: the registering client's namespace ({@link LodestarClient.Builder#namespace}, itself
     * {@value RegistrationSpec#DEFAULT_NAMESPACE} unless set).
     */
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

    /**
     * True: a persistent instance, not owned by this client. It stays registered when the client
     * closes or loses its server, until it is deregistered; the server marks it unhealthy while its
     * {@link #check} fails (never, without one). The client does not re-register it after a
     * reconnect (the server has it). Default false (ephemeral).
     */
    public Builder persistent(boolean persistent) {
      this.persistent = persistent;
      return this;
    }

    /** The server's probe of a persistent instance ({@link HealthCheck#tcp()}, {@link HealthCheck#http}). */
    public Builder check(HealthCheck check) {
      if (check == null) {
        throw new IllegalArgumentException("check must not be null");
      }
      this.check = check;
      return this;
    }

    public RegistrationSpec build() {
      if (check != null && !persistent) {
        throw new IllegalArgumentException("check is for persistent instances (an ephemeral one lives on heartbeats)");
      }
      if (ttlSeconds != 0 && persistent) {
        throw new IllegalArgumentException("ttlSeconds is for ephemeral instances (a persistent one has no TTL)");
      }
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
