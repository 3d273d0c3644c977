package io.lodestar.client;

import java.util.List;

/**
 * One change to a service, as seen by a {@link ServiceListener}.
 *
 * @param snapshot the service after the change (full instance list, healthy-filtered list)
 * @param added instances new since the previous event
 * @param removed instances gone since the previous event (their last known state)
 * @param changed instances present before and after whose content changed (new state)
 * @param fromCache true when the list came from the failover cache on disk, not a server
 */
public record ServiceEvent(ServiceSnapshot snapshot, List<Instance> added, List<Instance> removed,
    List<Instance> changed, boolean fromCache) {

  public ServiceEvent {
    added = List.copyOf(added);
    removed = List.copyOf(removed);
    changed = List.copyOf(changed);
  }

  public String namespace() {
    return snapshot.namespace();
  }

  public String service() {
    return snapshot.service();
  }

  public long revision() {
    return snapshot.revision();
  }

  /** Every instance after the change. */
  public List<Instance> instances() {
    return snapshot.instances();
  }
}
