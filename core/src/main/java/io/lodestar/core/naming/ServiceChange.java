package io.lodestar.core.naming;

import io.lodestar.api.v1.Instance;
import java.util.List;

/**
 * What one batch of commands did to one service: the instances added or changed and the ids
 * removed between {@code previousRevision} and {@code view.revision()}. A previous revision of 0
 * means "no usable base" (new service, or state replaced by a snapshot): send the whole view.
 * {@code unboundRemovals}: an ephemeral instance removed had no keep-alive bound to tell
 * ({@link SharedHeartbeat#leaseChanged}), so whoever may own it must be told another way.
 */
public record ServiceChange(long previousRevision, ServiceView view, List<Instance> upserts, List<String> removedIds,
    boolean infoChanged, boolean deleted, boolean unboundRemovals) {

  public ServiceKey key() {
    return view.key();
  }
}
