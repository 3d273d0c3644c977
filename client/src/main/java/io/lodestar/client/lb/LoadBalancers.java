package io.lodestar.client.lb;

import java.util.List;

/** Builds the picker of a policy over one list of endpoints. Called once per change, not per call. */
public final class LoadBalancers {
  private LoadBalancers() {}

  /**
   * @param start where a round-robin cycle starts (random in production, so that clients do not
   *     all begin with the same instance; fixed in tests)
   */
  public static Picker picker(LbPolicy policy, List<? extends Endpoint> endpoints, long start) {
    int n = endpoints.size();
    int[] weights = new int[n];
    String[] ids = new String[n];
    EndpointLoad[] loads = new EndpointLoad[n];
    boolean allZero = true;
    for (int i = 0; i < n; i++) {
      Endpoint e = endpoints.get(i);
      weights[i] = e.weight();
      ids[i] = e.id();
      loads[i] = e.load();
      allZero &= weights[i] == 0;
    }
    return switch (policy) {
      case WEIGHTED_RANDOM -> new WeightedRandomPicker(effective(weights, loads, allZero, false));
      case ADAPTIVE -> new WeightedRandomPicker(effective(weights, loads, allZero, true));
      case ROUND_ROBIN -> new RoundRobinPicker(weights, start);
      case LEAST_REQUEST -> new LeastRequestPicker(loads, weights);
      case RING_HASH -> new RingHashPicker(ids, weights);
      case MAGLEV -> new MaglevPicker(ids, weights);
    };
  }

  private static double[] effective(int[] weights, EndpointLoad[] loads, boolean allZero, boolean adaptive) {
    double[] w = new double[weights.length];
    for (int i = 0; i < w.length; i++) {
      // all weights 0 is an operator slip, not a reason to fail every call: pick uniformly
      double base = allZero ? 1 : weights[i];
      w[i] = adaptive ? base * loads[i].factor : base;
    }
    return w;
  }
}
