package io.lodestar.core.governance;

/**
 * Splits a cluster-wide limit among the SDKs that share it, after TSF's scheme: when every SDK's
 * predicted demand fits within an even share, everyone gets the even share (the limit divided by
 * the number of SDKs); otherwise every SDK keeps a guaranteed minimum (a fraction of the even
 * share) and the rest of the limit follows the predicted demands. The shares always add up to the
 * limit. Pure and deterministic.
 */
public final class QuotaAllocator {
  /** The guaranteed minimum, as a fraction of the even share. */
  public static final double DEFAULT_MIN_FRACTION = 0.2;

  private QuotaAllocator() {}

  /**
   * @param limit the global limit (permits per second)
   * @param demands each SDK's predicted demand (permits per second), ≥ 0
   * @return each SDK's share, in the same order
   */
  public static double[] allocate(double limit, double[] demands, double minFraction) {
    int n = demands.length;
    double[] shares = new double[n];
    if (n == 0) {
      return shares;
    }
    double even = limit / n;
    double total = 0;
    boolean allFit = true;
    for (double d : demands) {
      total += Math.max(0, d);
      allFit &= d <= even;
    }
    if (allFit || total <= 0) {
      java.util.Arrays.fill(shares, even);
      return shares;
    }
    double floor = even * minFraction;
    double rest = limit - floor * n;
    for (int i = 0; i < n; i++) {
      shares[i] = floor + rest * Math.max(0, demands[i]) / total;
    }
    return shares;
  }
}
