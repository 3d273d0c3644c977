package io.lodestar.client.lb;

/**
 * Power of two choices: draw two distinct endpoints at random and take the one with fewer calls
 * in flight per unit of weight. Reads two atomics; O(1) whatever the size.
 */
final class LeastRequestPicker implements Picker {
  private final EndpointLoad[] loads;
  private final int[] weights;

  LeastRequestPicker(EndpointLoad[] loads, int[] weights) {
    this.loads = loads;
    this.weights = weights;
  }

  @Override
  public int pick(long random, long keyHash) {
    int n = loads.length;
    if (n == 0) {
      return NONE;
    }
    if (n == 1) {
      return 0;
    }
    int a = (int) Long.remainderUnsigned(random, n);
    int b = (int) Long.remainderUnsigned(Hashing.mix(random), n - 1);
    if (b >= a) {
      b++;
    }
    // a's load per weight < b's load per weight, cross-multiplied; +1 so idle endpoints still compare by weight
    long la = (long) (loads[a].inFlight() + 1) * Math.max(1, weights[b]);
    long lb = (long) (loads[b].inFlight() + 1) * Math.max(1, weights[a]);
    return la <= lb ? a : b;
  }
}
