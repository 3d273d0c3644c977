package io.lodestar.client.lb;

/**
 * Load-balancing policies: the SDK's face of the wire enum {@code LoadBalanceRule.Policy} (api/
 * governance.proto), which is the one list; each constant is named as its value there
 * (LoadBalancersTest holds the two equal), so a rule's policy maps by name
 * ({@code internal.RuleConfigs}, which keeps the wire type off this public enum).
 */
public enum LbPolicy {
  /** Random, proportional to weight. The default. */
  WEIGHTED_RANDOM,
  /** Smooth weighted round robin (nginx's sequence: no bursts to the heaviest instance). */
  ROUND_ROBIN,
  /** Power of two choices: of two random instances, the one with fewer requests in flight per weight. */
  LEAST_REQUEST,
  /** Consistent hashing on a ring of virtual nodes, by the call's hash key. */
  RING_HASH,
  /** Maglev consistent hashing by the call's hash key: a flat lookup table, even spread. */
  MAGLEV,
  /** L5-style: shares follow reported success rate and latency; overloaded instances are only probed. */
  ADAPTIVE
}
