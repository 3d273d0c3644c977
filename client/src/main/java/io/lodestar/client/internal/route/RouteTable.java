package io.lodestar.client.internal.route;

import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.client.route.CallContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compiled route rules for one caller. The destinations of every rule are flattened into one list
 * of subsets (instance metadata selectors), so that the SDK can build one picker per subset once,
 * when membership changes. {@link #select} finds the first matching rule and draws one of its
 * destinations by weight: a few comparisons, no allocation.
 */
public final class RouteTable {
  /** {@link #select}'s answer when no rule matches: route over every instance. */
  public static final int ALL = -1;
  public static final int DEFAULT_WEIGHT = 100;

  private static final RouteTable NONE = new RouteTable(new CallMatcher[0], new String[0], new int[0][], new long[0][],
      List.of(), false, Nearby.DISABLED);

  private final CallMatcher[] matchers;
  private final String[] names;         // per rule: its name, or "#<index>" when it has none
  private final int[][] destinations;   // per rule: subset indices
  private final long[][] cumulative;    // per rule: cumulative weights
  private final List<Map<String, String>> subsets;
  private final boolean failWhenEmpty;
  private final Nearby nearby;

  private RouteTable(CallMatcher[] matchers, String[] names, int[][] destinations, long[][] cumulative,
      List<Map<String, String>> subsets, boolean failWhenEmpty, Nearby nearby) {
    this.matchers = matchers;
    this.names = names;
    this.destinations = destinations;
    this.cumulative = cumulative;
    this.subsets = subsets;
    this.failWhenEmpty = failWhenEmpty;
    this.nearby = nearby;
  }

  public static RouteTable none() {
    return NONE;
  }

  public static RouteTable compile(RouteRules rules, Map<String, String> callerLabels) {
    List<CallMatcher> matchers = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<int[]> dests = new ArrayList<>();
    List<long[]> cums = new ArrayList<>();
    List<Map<String, String>> subsets = new ArrayList<>();
    for (RouteRule r : rules.getRulesList()) {
      if (r.getDestinationsCount() == 0) {
        continue;
      }
      int[] d = new int[r.getDestinationsCount()];
      long[] c = new long[d.length];
      long sum = 0;
      for (int i = 0; i < d.length; i++) {
        Destination dest = r.getDestinations(i);
        Map<String, String> subset = Map.copyOf(dest.getSubsetMap());
        int idx = subsets.indexOf(subset);
        if (idx < 0) {
          idx = subsets.size();
          subsets.add(subset);
        }
        d[i] = idx;
        sum += dest.getWeight() == 0 ? DEFAULT_WEIGHT : dest.getWeight();
        c[i] = sum;
      }
      matchers.add(CallMatcher.compile(r.getMatch(), callerLabels));
      names.add(r.getName().isEmpty() ? "#" + names.size() : r.getName());
      dests.add(d);
      cums.add(c);
    }
    return new RouteTable(matchers.toArray(new CallMatcher[0]), names.toArray(new String[0]), dests.toArray(new int[0][]),
        cums.toArray(new long[0][]), List.copyOf(subsets), rules.getFallback() == RouteRules.Fallback.FAIL,
        Nearby.of(rules.getNearby()));
  }

  /** Every destination subset of every rule; {@link #select} answers indices into this list. */
  public List<Map<String, String>> subsets() {
    return subsets;
  }

  /** True when an empty subset must fail the call instead of falling back to every instance. */
  public boolean failWhenEmpty() {
    return failWhenEmpty;
  }

  public Nearby nearby() {
    return nearby;
  }

  /** The subset for this call, or {@link #ALL}; {@code random} draws among weighted destinations. */
  public int select(CallContext call, long random) {
    for (int r = 0; r < matchers.length; r++) {
      if (matchers[r].test(call)) {
        long[] c = cumulative[r];
        if (c.length == 1) {
          return destinations[r][0];
        }
        long x = Long.remainderUnsigned(random, c[c.length - 1]);
        for (int i = 0; i < c.length; i++) {
          if (x < c[i]) {
            return destinations[r][i];
          }
        }
      }
    }
    return ALL;
  }

  /**
   * The name of the rule {@link #select} routes this call by (the first that matches), or null
   * when none does. Off the hot path: traces ask it once per call they record.
   */
  public String matchedRule(CallContext call) {
    int r = firstMatch(call);
    return r < 0 ? null : names[r];
  }

  /**
   * The destination subset of the matching rule that holds an instance with this metadata, or null
   * (no rule matched, or the call fell back to every instance).
   */
  public Map<String, String> subsetOf(CallContext call, Map<String, String> metadata) {
    int r = firstMatch(call);
    if (r < 0) {
      return null;
    }
    for (int d : destinations[r]) {
      if (inSubset(subsets.get(d), metadata)) {
        return subsets.get(d);
      }
    }
    return null;
  }

  private int firstMatch(CallContext call) {
    for (int r = 0; r < matchers.length; r++) {
      if (matchers[r].test(call)) {
        return r;
      }
    }
    return -1;
  }

  /** Does an instance with this metadata belong to the subset? */
  public static boolean inSubset(Map<String, String> subset, Map<String, String> metadata) {
    for (Map.Entry<String, String> e : subset.entrySet()) {
      if (!e.getValue().equals(metadata.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
