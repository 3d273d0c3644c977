package io.lodestar.core.naming;

/**
 * A sign of life shared by many leases (an SDK stream's keep-alive): one write renews every
 * instance bound to it. An instance's lease ({@link StoredInstance#leaseSeenNanos}) counts from
 * the later of its own renewal and this.
 */
public interface SharedHeartbeat {
  /** When this was last renewed, on the lease keeper's nanosecond clock. */
  long lastSeenNanos();

  /**
   * An instance whose lease this renews was removed or replaced, or its lease bound elsewhere:
   * told after the registry changed, so that the stream behind it looks at what it owns again.
   */
  default void leaseChanged() {}
}
