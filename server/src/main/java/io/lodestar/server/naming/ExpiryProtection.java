package io.lodestar.server.naming;

import java.util.concurrent.TimeUnit;

/**
 * When removal of expired leases pauses: more than {@code share} of the leases a node decides (on
 * the node, or in one namespace) would be removed within {@code window}, and at least
 * {@code minRemovals} of them. Expiry of that many at once is more likely a partition between
 * clients and servers (Eureka's self-preservation, Nacos' protection) than that many deaths.
 * {@code share} 1.0 turns protection off.
 */
public record ExpiryProtection(double share, long windowNanos, int minRemovals) {
  public static final ExpiryProtection DEFAULT = new ExpiryProtection(0.5, TimeUnit.SECONDS.toNanos(60), 3);
  public static final ExpiryProtection OFF = new ExpiryProtection(1.0, TimeUnit.SECONDS.toNanos(60), 3);

  public ExpiryProtection {
    if (!(share > 0 && share <= 1.0)) {
      throw new IllegalArgumentException("expiry protection share must be within (0, 1], got " + share);
    }
    if (windowNanos <= 0 || minRemovals < 1) {
      throw new IllegalArgumentException("expiry protection window and minimum must be positive");
    }
  }

  /** Whether {@code removing} of {@code leases} is more than this allows to expire at once. */
  boolean exceeded(int removing, int leases) {
    return removing >= minRemovals && leases > 0 && removing > share * leases;
  }
}
