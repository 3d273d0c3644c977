package io.lodestar.client.lb;

/** Random by weight: one draw, one binary search over cumulative weights. */
final class WeightedRandomPicker implements Picker {
  private final double[] cumulative;
  private final double total;

  WeightedRandomPicker(double[] weights) {
    cumulative = new double[weights.length];
    double sum = 0;
    for (int i = 0; i < weights.length; i++) {
      sum += weights[i];
      cumulative[i] = sum;
    }
    total = sum;
  }

  @Override
  public int pick(long random, long keyHash) {
    int n = cumulative.length;
    if (n == 0) {
      return NONE;
    }
    // 53 random bits -> [0, total)
    double x = (random >>> 11) * 0x1.0p-53 * total;
    int lo = 0;
    int hi = n - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cumulative[mid] > x) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }
}
