package io.lodestar.client;

import io.lodestar.client.governance.Rules;
import io.lodestar.client.internal.RuleSet;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * An immutable picture of one service at one revision, precomputed for discovery.
 *
 * <p>Design: the SDK builds one snapshot per update of a service (on its single control thread)
 * and publishes it with one volatile write. Readers on any thread take it with one volatile read
 * and never lock. Everything a read needs is computed here, once: the list of all instances (sorted
 * by id), the healthy-filtered list after the protection threshold, and the cumulative weights of
 * that list, so that {@link #selectOne()} is a random draw plus a binary search, with no allocation.
 *
 * <p>Protection: instances whose health is {@link Instance.Health#UNHEALTHY} are filtered out, unless
 * the unhealthy share exceeds the protection threshold; then every instance is returned (each still
 * carrying its health) and {@link #protectionApplied()} is true, so that a network blip never
 * empties a caller's list. A threshold of 0 means the default ({@value #DEFAULT_PROTECT_THRESHOLD});
 * 1.0 disables protection.
 *
 * <p>Isolation: an instance an operator isolated ({@code Instance.isolated}) stays registered and
 * in {@link #instances()}, but is never in {@link #healthyInstances()} nor picked, and does not
 * count towards protection.
 *
 * <p>Weights: an instance without a weight counts {@value #DEFAULT_WEIGHT}; weight 0 is never
 * picked, unless every candidate has weight 0, in which case the pick is uniform (an empty traffic
 * share for everyone is an operator mistake, not a reason to fail every call).
 */
public final class ServiceSnapshot {
  /** Used when a service's protect_threshold is unset (0). Same value as the server's default. */
  public static final double DEFAULT_PROTECT_THRESHOLD = 0.5;
  /** Weight of an instance registered without one. Same value as the server's default. */
  public static final int DEFAULT_WEIGHT = 100;

  private static final Comparator<Instance> BY_ID = Comparator.comparing(Instance::id);

  private final String namespace;
  private final String service;
  private final long revision;
  private final double protectThreshold;
  private final List<Instance> instances;
  private final List<Instance> selectable;
  private final Instance[] picks;
  private final long[] cumulative;  // cumulative[i] = sum of weights of picks[0..i]
  private final long totalWeight;
  private final boolean protectionApplied;
  private final Rules rules;
  private final boolean expiryHeld;

  /**
   * @param sorted every instance, sorted by id, in an array this snapshot now owns: nobody writes
   *     it afterwards (it may become {@link #picks})
   */
  private ServiceSnapshot(String namespace, String service, long revision, Instance[] sorted,
      double protectThreshold, Rules rules, boolean expiryHeld) {
    this.expiryHeld = expiryHeld;
    this.rules = rules;
    this.namespace = namespace;
    this.service = service;
    this.revision = revision;
    this.protectThreshold = effectiveThreshold(protectThreshold);
    this.instances = List.of(sorted);

    // Isolated instances (an operator's choice) are never selectable and do not count towards
    // protection; they stay in instances(), marked. Counted first: when every candidate is
    // selectable (nearly always), the selectable list is the whole list, with no copy.
    int isolated = 0;
    int healthy = 0;
    for (Instance i : sorted) {
      if (i.isolated()) {
        isolated++;
      } else if (i.healthy()) {
        healthy++;
      }
    }
    int candidates = sorted.length - isolated;
    boolean protect = false;
    if (candidates > 0 && this.protectThreshold < 1.0) {
      double unhealthyShare = 1.0 - (double) healthy / candidates;
      protect = unhealthyShare > this.protectThreshold;
    }
    this.protectionApplied = protect;
    int selectableCount = protect ? candidates : healthy;
    if (selectableCount == sorted.length) {
      this.picks = sorted;
      this.selectable = instances;
    } else {
      Instance[] p = new Instance[selectableCount];
      int k = 0;
      for (Instance i : sorted) {
        if (!i.isolated() && (protect || i.healthy())) {
          p[k++] = i;
        }
      }
      this.picks = p;
      this.selectable = List.of(p);
    }

    this.cumulative = new long[picks.length];
    long sum = 0;
    for (int k = 0; k < picks.length; k++) {
      sum += picks[k].weight();
      cumulative[k] = sum;
    }
    this.totalWeight = sum;
  }

  /** A snapshot of an anonymous service at revision 0: for benchmarks and tests. */
  public static ServiceSnapshot of(List<Instance> instances, double protectThreshold) {
    return of("", "", 0, instances, protectThreshold);
  }

  /**
   * A snapshot of one service.
   *
   * @param protectThreshold the service's protect_threshold: 0 means the default, 1.0 disables
   *     protection
   * @throws IllegalArgumentException if the threshold is outside 0–1
   */
  public static ServiceSnapshot of(String namespace, String service, long revision, List<Instance> instances,
      double protectThreshold) {
    return of(namespace, service, revision, instances, protectThreshold, RuleSet.EMPTY);
  }

  /** A snapshot that also carries the service's effective governance rules, as pushed. */
  public static ServiceSnapshot of(String namespace, String service, long revision, List<Instance> instances,
      double protectThreshold, Rules rules) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(instances, "instances");
    Objects.requireNonNull(rules, "rules");
    if (Double.isNaN(protectThreshold) || protectThreshold < 0 || protectThreshold > 1) {
      throw new IllegalArgumentException("protectThreshold must be within 0–1, got " + protectThreshold);
    }
    Instance[] sorted = instances.toArray(new Instance[0]);
    Arrays.sort(sorted, BY_ID);
    return new ServiceSnapshot(namespace, service, revision, sorted, protectThreshold, rules, false);
  }

  /**
   * A snapshot of instances already sorted by id (the cache's list edited by a delta), taken as
   * they are: no sort and no copy to sort. The caller hands the array over and never writes it.
   */
  static ServiceSnapshot ofSorted(String namespace, String service, long revision, Instance[] sortedById,
      double protectThreshold, Rules rules) {
    return new ServiceSnapshot(namespace, service, revision, sortedById, protectThreshold, rules, false);
  }

  /**
   * The server's list is empty because the leases of the service's last instances expired (no
   * deregistration), and this snapshot holds the last non-empty list instead, at the server's
   * revision: a client–server partition must not empty a caller's list. It ends with the next
   * update that brings instances or removes them by deregistration.
   */
  public boolean expiryHeld() {
    return expiryHeld;
  }

  /** This snapshot's instances, held at {@code revision} while the server's list is empty by expiry. */
  ServiceSnapshot heldAt(long revision, double protectThreshold, Rules rules) {
    return new ServiceSnapshot(namespace, service, revision, instances.toArray(new Instance[0]),
        effectiveThreshold(protectThreshold), rules, true);
  }

  /** The service's effective governance rules (its own, completed by its namespace's defaults). */
  public Rules rules() {
    return rules;
  }

  /** The threshold actually applied for a configured value (0 → the default). */
  public static double effectiveThreshold(double configured) {
    return configured <= 0 || Double.isNaN(configured) ? DEFAULT_PROTECT_THRESHOLD : Math.min(configured, 1.0);
  }

  public String namespace() {
    return namespace;
  }

  public String service() {
    return service;
  }

  /** The registry revision this snapshot reflects (0 = none yet). */
  public long revision() {
    return revision;
  }

  /** The effective protection threshold. */
  public double protectThreshold() {
    return protectThreshold;
  }

  /** Every instance, healthy or not, isolated or not, sorted by id. Immutable. */
  public List<Instance> instances() {
    return instances;
  }

  /**
   * The instances to hand a caller that wants healthy ones: the healthy instances, or every
   * instance that is not isolated when {@link #protectionApplied()}. Sorted by id. Immutable.
   */
  public List<Instance> healthyInstances() {
    return selectable;
  }

  /** True when the unhealthy share exceeded the threshold, so {@link #healthyInstances()} holds all. */
  public boolean protectionApplied() {
    return protectionApplied;
  }

  /** Sum of the weights of {@link #healthyInstances()}. */
  public long totalWeight() {
    return totalWeight;
  }

  /**
   * A weighted random pick among {@link #healthyInstances()}, or null when there is none. Lock-free
   * and allocation-free: one {@link ThreadLocalRandom} draw and a binary search.
   */
  public Instance selectOne() {
    return selectOne(ThreadLocalRandom.current());
  }

  /** {@link #selectOne()} with a caller-supplied random source (e.g. a seeded one in tests). */
  public Instance selectOne(RandomGenerator random) {
    Instance[] p = picks;
    int n = p.length;
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return p[0];
    }
    if (totalWeight == 0) {
      return p[random.nextInt(n)];
    }
    long r = random.nextLong(totalWeight);
    // first index whose cumulative weight exceeds r
    long[] c = cumulative;
    int lo = 0;
    int hi = n - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (c[mid] > r) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return p[lo];
  }

  @Override
  public String toString() {
    return "ServiceSnapshot{" + namespace + "/" + service + "@" + revision + ", instances=" + instances.size()
        + ", selectable=" + selectable.size() + (protectionApplied ? ", protection applied" : "") + "}";
  }

  // Visible for tests.
  long[] cumulativeWeights() {
    return Arrays.copyOf(cumulative, cumulative.length);
  }
}
