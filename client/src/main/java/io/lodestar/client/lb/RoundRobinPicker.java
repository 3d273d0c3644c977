package io.lodestar.client.lb;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Smooth weighted round robin. The nginx sequence for one cycle is computed once, at build time;
 * a pick is one atomic increment and an array read, so concurrent callers never wait. Weights are
 * reduced by their gcd and, when a cycle would exceed {@link #MAX_CYCLE}, scaled down (keeping
 * every non-zero weight at least 1).
 */
final class RoundRobinPicker implements Picker {
  /** Longest precomputed cycle; bounds build time and memory. */
  static final int MAX_CYCLE = 1 << 14;

  private final int[] sequence;
  private final AtomicLong next;

  RoundRobinPicker(int[] weights, long start) {
    int n = weights.length;
    int[] w = weights.clone();
    long sum = 0;
    int g = 0;
    for (int x : w) {
      sum += x;
      g = gcd(g, x);
    }
    if (n > 0 && sum == 0) {
      java.util.Arrays.fill(w, 1);
      sum = n;
      g = 1;
    }
    if (g > 1) {
      sum = 0;
      for (int i = 0; i < n; i++) {
        w[i] /= g;
        sum += w[i];
      }
    }
    if (sum > MAX_CYCLE) {
      long scaled = 0;
      for (int i = 0; i < n; i++) {
        if (w[i] > 0) {
          w[i] = (int) Math.max(1, Math.round((double) w[i] * MAX_CYCLE / sum));
        }
        scaled += w[i];
      }
      sum = scaled;
    }
    sequence = new int[(int) sum];
    long[] current = new long[n];
    for (int k = 0; k < sequence.length; k++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        current[i] += w[i];
        if (best < 0 || current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= sum;
      sequence[k] = best;
    }
    next = new AtomicLong(sequence.length == 0 ? 0 : Math.floorMod(start, sequence.length));
  }

  @Override
  public int pick(long random, long keyHash) {
    int len = sequence.length;
    if (len == 0) {
      return NONE;
    }
    return sequence[(int) Long.remainderUnsigned(next.getAndIncrement(), len)];
  }

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
