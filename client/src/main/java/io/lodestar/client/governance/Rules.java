package io.lodestar.client.governance;

import io.lodestar.client.lb.LbPolicy;

/**
 * A read-only view of one service's effective governance rules as the server pushed them (the
 * service's own, over its namespace's defaults). The rules are written through REST or the CLI
 * (docs/api.md#governance-rules); the SDK applies them and shows here which kinds are in force.
 *
 * <p>Only the SDK implements it: {@link ServiceGovernor#update} takes the rules a snapshot or
 * another governor handed out, not an application's own implementation.
 */
public interface Rules {
  /** The load-balancing policy the rules name, or null when they name none ({@link LbPolicy#WEIGHTED_RANDOM} applies). */
  LbPolicy loadBalancePolicy();

  boolean hasRoute();

  boolean hasCircuitBreaker();

  boolean hasRateLimit();

  boolean hasLanes();
}
