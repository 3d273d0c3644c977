package io.lodestar.core.naming;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import java.util.List;
import java.util.Map;

/**
 * An instance as the registry keeps it: primitive fields, strings that repeat shared, and one
 * shared copy of each distinct metadata (and tag) list, instead of a protobuf {@link Instance}
 * with its own map per instance. The wire form is rendered from it when a view is read
 * ({@link #toInstance()}); the two hold the same fields, so rendering gives back an equal message.
 *
 * <p>Immutable; safe to share across threads.
 */
public final class StoredInstance {
  // Strings and lists that repeat across instances (hosts, protocols, owners, metadata): one copy
  // of each; weak, so those no instance uses any more go away.
  private static final Interner<String> STRINGS = Interners.newWeakInterner();
  private static final Interner<ImmutableList<String>> LISTS = Interners.newWeakInterner();
  private static final int NO_WEIGHT = -1;

  private final ServiceKey service;
  private final String id;
  private final String host;
  private final String protocol;
  private final String owner;
  private final String leaseHolder;
  private final String checkId;
  // metadata as [key, value, key, value, ...] in the registrant's order, shared by equal lists
  private final ImmutableList<String> metadata;
  private final ImmutableList<String> tags;
  private final HealthCheck check;  // null when the instance has none
  private final long revision;
  private final long registeredAtMs;
  private final int port;
  private final int weight;         // NO_WEIGHT when unset
  private final int ttlSeconds;
  private final int removeAfterSeconds;
  private final byte health;        // HealthStatus number
  private final boolean ephemeral;
  private final boolean isolated;

  private StoredInstance(ServiceKey service, Instance i) {
    this.service = service;
    this.id = i.getId();
    this.host = STRINGS.intern(i.getHost());
    this.protocol = STRINGS.intern(i.getProtocol());
    this.owner = STRINGS.intern(i.getOwner());
    this.leaseHolder = STRINGS.intern(i.getLeaseHolder());
    this.checkId = i.getCheckId().isEmpty() ? "" : i.getCheckId();
    this.metadata = metadataOf(i.getMetadataMap());
    this.tags = i.getTagsCount() == 0 ? ImmutableList.of() : LISTS.intern(internAll(i.getTagsList()));
    this.check = i.hasCheck() ? i.getCheck() : null;
    this.revision = i.getRevision();
    this.registeredAtMs = i.getRegisteredAtMs();
    this.port = i.getPort();
    this.weight = i.hasWeight() ? i.getWeight() : NO_WEIGHT;
    this.ttlSeconds = i.getTtlSeconds();
    this.removeAfterSeconds = i.getRemoveAfterSeconds();
    this.health = (byte) i.getHealthValue();
    this.ephemeral = i.getEphemeral();
    this.isolated = i.getIsolated();
  }

  /** The compact form of {@code i}, whose namespace and service are {@code service}'s (shared). */
  public static StoredInstance of(ServiceKey service, Instance i) {
    return new StoredInstance(service, i);
  }

  /** The wire form: a new message equal to the one this was made from. */
  public Instance toInstance() {
    Instance.Builder b = Instance.newBuilder().setId(id).setNamespace(service.namespace())
        .setService(service.service()).setHost(host).setPort(port).setProtocol(protocol)
        .setEphemeral(ephemeral).setHealthValue(health).setRevision(revision).setTtlSeconds(ttlSeconds)
        .setRegisteredAtMs(registeredAtMs).setOwner(owner).setLeaseHolder(leaseHolder).setIsolated(isolated)
        .addAllTags(tags).setCheckId(checkId).setRemoveAfterSeconds(removeAfterSeconds);
    if (weight != NO_WEIGHT) {
      b.setWeight(weight);
    }
    for (int k = 0; k < metadata.size(); k += 2) {
      b.putMetadata(metadata.get(k), metadata.get(k + 1));
    }
    if (check != null) {
      b.setCheck(check);
    }
    return b.build();
  }

  public ServiceKey service() {
    return service;
  }

  public String id() {
    return id;
  }

  public String owner() {
    return owner;
  }

  public HealthStatus health() {
    HealthStatus h = HealthStatus.forNumber(health);
    return h == null ? HealthStatus.UNRECOGNIZED : h;
  }

  public boolean isolated() {
    return isolated;
  }

  /** The instance's tags, in its order. */
  public List<String> tags() {
    return tags;
  }

  private static ImmutableList<String> metadataOf(Map<String, String> map) {
    if (map.isEmpty()) {
      return ImmutableList.of();
    }
    ImmutableList.Builder<String> b = ImmutableList.builderWithExpectedSize(map.size() * 2);
    map.forEach((k, v) -> b.add(STRINGS.intern(k)).add(STRINGS.intern(v)));
    return LISTS.intern(b.build());
  }

  private static ImmutableList<String> internAll(List<String> values) {
    ImmutableList.Builder<String> b = ImmutableList.builderWithExpectedSize(values.size());
    values.forEach(v -> b.add(STRINGS.intern(v)));
    return b.build();
  }
}
