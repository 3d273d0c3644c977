package io.lodestar.client.lb;

/** Load-balancing policies; wire names are the lower-case constants with '_' (e.g. ring_hash). */
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
  ADAPTIVE;

  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses a wire name; null for an unknown one. */
  public static LbPolicy fromWire(String name) {
    for (LbPolicy p : values()) {
      if (p.wireName().equals(name)) {
        return p;
      }
    }
    return null;
  }
}
