package io.lodestar.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One registered instance of a service, as the server stores it: an immutable value (its metadata
 * and tags are copies). The SDK's own type, so that an application never sees the wire format.
 *
 * @param id unique within the service ({@code host:port} unless the registration set one)
 * @param namespace the namespace of the service
 * @param service the service
 * @param host an IP address or host name
 * @param port 1–65535
 * @param protocol free-form ({@code http}, {@code grpc}, …), or empty
 * @param weight 0–10000 (an instance registered without one has {@value ServiceSnapshot#DEFAULT_WEIGHT});
 *     0 takes no traffic
 * @param metadata free-form key/value labels ({@code zone}, {@code version}, {@code lane}, …)
 * @param tags free-form labels in the order registered (Consul's service tags)
 * @param ephemeral kept alive by its owner's heartbeats (true) or persistent until deregistered
 * @param health as the server last decided it
 * @param isolated taken out of discovery by an operator: listed, never picked
 * @param revision the registry revision at which this instance last changed
 * @param ttlSeconds an ephemeral instance's lease; 0 for a persistent one
 * @param registeredAtMs when it was first registered (epoch milliseconds)
 * @param owner the SDK connection that owns an ephemeral instance; empty for REST registrations
 * @param leaseHolder in a cluster, the node holding an ephemeral instance's lease; else empty
 * @param registeredWeight present while an operator's weight is in force ({@code weight} is then the
 *     operator's): the weight the instance registered, which it weighs again once the operator gives
 *     its weight back. An operator's weight holds over the instance's own re-registrations.
 */
public record Instance(String id, String namespace, String service, String host, int port, String protocol,
    int weight, Map<String, String> metadata, List<String> tags, boolean ephemeral, Health health,
    boolean isolated, long revision, int ttlSeconds, long registeredAtMs, String owner, String leaseHolder,
    OptionalInt registeredWeight) {

  /** An instance's health as the server decides it. */
  public enum Health {
    /** Not decided yet (a persistent instance before its first check). Counts as healthy. */
    UNKNOWN,
    HEALTHY,
    UNHEALTHY
  }

  public Instance {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(health, "health");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(leaseHolder, "leaseHolder");
    Objects.requireNonNull(registeredWeight, "registeredWeight");
    metadata = Map.copyOf(metadata);
    tags = List.copyOf(tags);
  }

  /** An instance weighing its own weight: no operator's weight in force. */
  public Instance(String id, String namespace, String service, String host, int port, String protocol,
      int weight, Map<String, String> metadata, List<String> tags, boolean ephemeral, Health health,
      boolean isolated, long revision, int ttlSeconds, long registeredAtMs, String owner, String leaseHolder) {
    this(id, namespace, service, host, port, protocol, weight, metadata, tags, ephemeral, health, isolated,
        revision, ttlSeconds, registeredAtMs, owner, leaseHolder, OptionalInt.empty());
  }

  /** True while {@link #weight} is an operator's (a drain, say), not the one the instance registered. */
  public boolean weightSetByOperator() {
    return registeredWeight.isPresent();
  }

  /** Not {@link Health#UNHEALTHY}: what discovery's healthy filter keeps. */
  public boolean healthy() {
    return health != Health.UNHEALTHY;
  }

  /** A metadata value, or null. */
  public String metadata(String key) {
    return metadata.get(key);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this instance's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.id = id;
    b.namespace = namespace;
    b.service = service;
    b.host = host;
    b.port = port;
    b.protocol = protocol;
    b.weight = weight;
    b.metadata.putAll(metadata);
    b.tags = tags;
    b.ephemeral = ephemeral;
    b.health = health;
    b.isolated = isolated;
    b.revision = revision;
    b.ttlSeconds = ttlSeconds;
    b.registeredAtMs = registeredAtMs;
    b.owner = owner;
    b.leaseHolder = leaseHolder;
    b.registeredWeight = registeredWeight;
    return b;
  }

  /** Builds instances for tests, benchmarks and adapters; every field has a neutral default. */
  public static final class Builder {
    private String id = "";
    private String namespace = "";
    private String service = "";
    private String host = "";
    private int port;
    private String protocol = "";
    private int weight = ServiceSnapshot.DEFAULT_WEIGHT;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private List<String> tags = List.of();
    private boolean ephemeral = true;
    private Health health = Health.HEALTHY;
    private boolean isolated;
    private long revision;
    private int ttlSeconds;
    private long registeredAtMs;
    private String owner = "";
    private String leaseHolder = "";
    private OptionalInt registeredWeight = OptionalInt.empty();

    private Builder() {}

    public Builder id(String v) {
      id = v;
      return this;
    }

    public Builder namespace(String v) {
      namespace = v;
      return this;
    }

    public Builder service(String v) {
      service = v;
      return this;
    }

    public Builder host(String v) {
      host = v;
      return this;
    }

    public Builder port(int v) {
      port = v;
      return this;
    }

    public Builder protocol(String v) {
      protocol = v;
      return this;
    }

    public Builder weight(int v) {
      weight = v;
      return this;
    }

    public Builder putMetadata(String key, String value) {
      metadata.put(key, value);
      return this;
    }

    public Builder metadata(Map<String, String> m) {
      metadata.clear();
      metadata.putAll(m);
      return this;
    }

    public Builder tags(List<String> v) {
      tags = v;
      return this;
    }

    public Builder ephemeral(boolean v) {
      ephemeral = v;
      return this;
    }

    public Builder health(Health v) {
      health = v;
      return this;
    }

    public Builder isolated(boolean v) {
      isolated = v;
      return this;
    }

    public Builder revision(long v) {
      revision = v;
      return this;
    }

    public Builder ttlSeconds(int v) {
      ttlSeconds = v;
      return this;
    }

    public Builder registeredAtMs(long v) {
      registeredAtMs = v;
      return this;
    }

    public Builder owner(String v) {
      owner = v;
      return this;
    }

    public Builder leaseHolder(String v) {
      leaseHolder = v;
      return this;
    }

    /** The weight the instance registered, when {@link #weight} is an operator's. */
    public Builder registeredWeight(int v) {
      registeredWeight = OptionalInt.of(v);
      return this;
    }

    /** {@link #weight} is the instance's own. */
    public Builder clearRegisteredWeight() {
      registeredWeight = OptionalInt.empty();
      return this;
    }

    public Instance build() {
      return new Instance(id, namespace, service, host, port, protocol, weight, metadata, tags, ephemeral,
          health, isolated, revision, ttlSeconds, registeredAtMs, owner, leaseHolder, registeredWeight);
    }
  }
}
