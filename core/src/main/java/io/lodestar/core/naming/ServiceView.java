package io.lodestar.core.naming;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.ServiceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An immutable picture of one service at one revision. Readers on any thread take the current
 * view with one volatile read; the applying thread publishes a new view per batch of changes.
 *
 * <p>The registry's views hold their instances in compact form and render the wire-form messages
 * of {@link #instances()} once, when first read; {@link #forEachInstance} and {@link #stored()}
 * read them without keeping a rendered copy.
 */
public record ServiceView(ServiceKey key, ServiceInfo info, long revision, List<Instance> instances,
    boolean emptiedByExpiry) {

  public ServiceView {
    instances = instances instanceof InstanceList ? instances : List.copyOf(instances);
  }

  /** A view over the registry's compact entries, sorted by id. */
  static ServiceView ofStored(ServiceKey key, ServiceInfo info, long revision, StoredInstance[] sorted,
      boolean emptiedByExpiry) {
    return new ServiceView(key, info, revision, new InstanceList(sorted), emptiedByExpiry);
  }

  /** The compact entries in order (not a copy, never to be modified), or null for a view built from messages. */
  StoredInstance[] storedArrayOrNull() {
    return instances instanceof InstanceList l ? l.storedArray() : null;
  }

  /** Hands each instance over in order, rendered for the call and not kept with the view. */
  public void forEachInstance(Consumer<Instance> action) {
    if (instances instanceof InstanceList l) {
      l.forEachFresh(action);
    } else {
      instances.forEach(action);
    }
  }

  /**
   * This view's wire form as {@code render} makes it (the server's: a snapshot's bytes), rendered
   * the first time anyone asks and kept with the view, so every fetch and every snapshot push of
   * this revision shares one rendering instead of serializing each instance again. A view not
   * built by the registry (an empty placeholder, a test's) renders on each call.
   */
  public ByteString wire(Function<ServiceView, ByteString> render) {
    return instances instanceof InstanceList l ? l.wire(() -> render.apply(this)) : render.apply(this);
  }

  /** The instances in compact form, in order, without rendering any. */
  public List<StoredInstance> stored() {
    if (instances instanceof InstanceList l) {
      return l.stored();
    }
    return instances.stream().map(i -> StoredInstance.of(key, i)).toList();
  }

  public ServiceView(ServiceKey key, ServiceInfo info, long revision, List<Instance> instances) {
    this(key, info, revision, instances, false);
  }

  /** The share of unhealthy instances above which discovery returns everything. */
  public double protectThreshold() {
    double t = info.getProtectThreshold();
    return t <= 0 ? Registry.DEFAULT_PROTECT_THRESHOLD : t;
  }

  public long healthyCount() {
    return stored().stream().filter(i -> i.health() != HealthStatus.UNHEALTHY).count();
  }

  /**
   * Instances to hand a caller that asked for healthy ones only. Isolated instances are never
   * handed out and do not count towards protection (an operator took them out on purpose). When
   * the unhealthy share of the rest exceeds the protection threshold, all of the rest is returned
   * (each still marked with its status), so that a network blip never empties a caller's list.
   */
  public Selection healthy() {
    List<Instance> candidates = new ArrayList<>(instances.size());
    List<Instance> healthy = new ArrayList<>(instances.size());
    for (Instance i : instances) {
      if (i.getIsolated()) {
        continue;
      }
      candidates.add(i);
      if (i.getHealth() != HealthStatus.UNHEALTHY) {
        healthy.add(i);
      }
    }
    if (candidates.isEmpty()) {
      return new Selection(candidates, false);
    }
    double unhealthyShare = 1.0 - (double) healthy.size() / candidates.size();
    if (unhealthyShare > protectThreshold() && protectThreshold() < 1.0) {
      return new Selection(candidates, true);
    }
    return new Selection(healthy, false);
  }

  /** Instances an operator isolated: registered, but out of discovery. */
  public long isolatedCount() {
    return stored().stream().filter(StoredInstance::isolated).count();
  }

  /** The instances chosen, and whether protection replaced the healthy-only list by all. */
  public record Selection(List<Instance> instances, boolean protectionApplied) {}
}
