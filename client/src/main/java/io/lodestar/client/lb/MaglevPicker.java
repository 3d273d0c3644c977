package io.lodestar.client.lb;

import java.util.Arrays;

/**
 * Maglev hashing (Google, NSDI 2016), weighted as in Envoy: each endpoint fills lookup-table slots
 * in its own pseudo-random permutation, taking turns in proportion to its weight. A pick is one
 * table read. Membership changes move about 1/N of the slots. The table size is a prime well above
 * 100 slots per endpoint so that shares stay within about 1 % of their weights.
 */
final class MaglevPicker implements Picker {
  static final int[] TABLE_SIZES = {65_537, 655_373, 6_553_577};

  private final int[] table;

  MaglevPicker(String[] ids, int[] weights) {
    int n = ids.length;
    if (n == 0) {
      table = new int[0];
      return;
    }
    int m = TABLE_SIZES[TABLE_SIZES.length - 1];
    for (int size : TABLE_SIZES) {
      if (size >= 100L * n) {
        m = size;
        break;
      }
    }
    boolean allZero = Arrays.stream(weights).allMatch(w -> w == 0);
    double max = 0;
    for (int w : weights) {
      max = Math.max(max, w);
    }
    long[] offset = new long[n];
    long[] skip = new long[n];
    long[] next = new long[n];
    double[] weight = new double[n];
    double[] target = new double[n];
    for (int i = 0; i < n; i++) {
      long h = Hashing.hash(ids[i]);
      offset[i] = Long.remainderUnsigned(h, m);
      skip[i] = Long.remainderUnsigned(Hashing.mix(h ^ 0x5bd1e995L), m - 1) + 1;
      weight[i] = allZero ? 1 : weights[i] / max;
    }
    int[] t = new int[m];
    Arrays.fill(t, -1);
    int filled = 0;
    for (long iteration = 1; filled < m; iteration++) {
      for (int i = 0; i < n && filled < m; i++) {
        if (weight[i] == 0 || iteration * weight[i] < target[i]) {
          continue;
        }
        target[i] += 1.0;
        int c = (int) ((offset[i] + next[i] * skip[i]) % m);
        while (t[c] >= 0) {
          next[i]++;
          c = (int) ((offset[i] + next[i] * skip[i]) % m);
        }
        t[c] = i;
        next[i]++;
        filled++;
      }
    }
    table = t;
  }

  @Override
  public int pick(long random, long keyHash) {
    int m = table.length;
    return m == 0 ? NONE : table[(int) Long.remainderUnsigned(keyHash, m)];
  }
}
