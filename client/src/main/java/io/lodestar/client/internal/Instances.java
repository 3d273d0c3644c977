package io.lodestar.client.internal;

import io.lodestar.api.v1.HealthStatus;
import io.lodestar.client.Instance;
import io.lodestar.client.ServiceSnapshot;
import java.util.List;
import java.util.OptionalInt;

/**
 * The SDK's {@link Instance} from and to the wire form: the stream's updates, register answers
 * and the failover cache's files convert here, and nowhere else.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public final class Instances {
  private Instances() {}

  public static Instance fromProto(io.lodestar.api.v1.Instance p) {
    return fromProto(p, p.getMetadataMap());
  }

  /** With these metadata instead of the message's (a register answer leaves out those sent). */
  public static Instance fromProto(io.lodestar.api.v1.Instance p, java.util.Map<String, String> metadata) {
    return new Instance(p.getId(), p.getNamespace(), p.getService(), p.getHost(), p.getPort(), p.getProtocol(),
        p.hasWeight() ? p.getWeight() : ServiceSnapshot.DEFAULT_WEIGHT, metadata, p.getTagsList(),
        p.getEphemeral(), health(p.getHealth()), p.getIsolated(), p.getRevision(), p.getTtlSeconds(),
        p.getRegisteredAtMs(), p.getOwner(), p.getLeaseHolder(),
        p.hasRegisteredWeight() ? OptionalInt.of(p.getRegisteredWeight()) : OptionalInt.empty());
  }

  public static List<Instance> fromProto(List<io.lodestar.api.v1.Instance> l) {
    return l.stream().map(Instances::fromProto).toList();
  }

  /** The wire form (the failover cache's files). A persistent instance's health check is not kept. */
  public static io.lodestar.api.v1.Instance toProto(Instance i) {
    var b = io.lodestar.api.v1.Instance.newBuilder();
    i.registeredWeight().ifPresent(b::setRegisteredWeight);
    return b
        .setId(i.id()).setNamespace(i.namespace()).setService(i.service()).setHost(i.host()).setPort(i.port())
        .setProtocol(i.protocol()).setWeight(i.weight()).putAllMetadata(i.metadata()).addAllTags(i.tags())
        .setEphemeral(i.ephemeral()).setHealth(health(i.health())).setIsolated(i.isolated())
        .setRevision(i.revision()).setTtlSeconds(i.ttlSeconds()).setRegisteredAtMs(i.registeredAtMs())
        .setOwner(i.owner()).setLeaseHolder(i.leaseHolder()).build();
  }

  private static Instance.Health health(HealthStatus h) {
    return switch (h) {
      case HEALTHY -> Instance.Health.HEALTHY;
      case UNHEALTHY -> Instance.Health.UNHEALTHY;
      default -> Instance.Health.UNKNOWN;
    };
  }

  private static HealthStatus health(Instance.Health h) {
    return switch (h) {
      case HEALTHY -> HealthStatus.HEALTHY;
      case UNHEALTHY -> HealthStatus.UNHEALTHY;
      case UNKNOWN -> HealthStatus.HEALTH_UNKNOWN;
    };
  }
}
