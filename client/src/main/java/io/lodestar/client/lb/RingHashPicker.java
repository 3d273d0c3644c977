package io.lodestar.client.lb;

import java.util.Arrays;

/**
 * Consistent hashing on a ring. Each endpoint owns a number of virtual nodes that depends on its
 * own weight only ({@link #NODES_PER_DEFAULT_WEIGHT} at weight 100), placed by hashing its id
 * with the node number, so adding or removing one of N endpoints moves only about 1/N of the keys.
 * A pick is a binary search for the first node at or after the key's hash.
 */
final class RingHashPicker implements Picker {
  /** Virtual nodes of an endpoint of weight 100 (a share's relative error is about 1/√1000 ≈ 3 %). */
  static final int NODES_PER_DEFAULT_WEIGHT = 1000;
  /** Cap per endpoint so that a weight of 10000 does not build a ring of millions. */
  static final int MAX_NODES_PER_ENDPOINT = 4_000;
  private static final long OWNER_MASK = (1L << 20) - 1;

  private final long[] hashes;
  private final int[] owners;

  RingHashPicker(String[] ids, int[] weights) {
    int n = ids.length;
    if (n > OWNER_MASK) {
      throw new IllegalArgumentException("ring hash supports at most " + OWNER_MASK + " endpoints");
    }
    boolean allZero = Arrays.stream(weights).allMatch(w -> w == 0);
    int[] counts = new int[n];
    int total = 0;
    for (int i = 0; i < n; i++) {
      int w = allZero ? 100 : weights[i];
      counts[i] = w == 0 ? 0 : (int) Math.min(MAX_NODES_PER_ENDPOINT,
          Math.max(1, Math.round(w * (double) NODES_PER_DEFAULT_WEIGHT / 100)));
      total += counts[i];
    }
    // A node's position is its hash with the low 20 bits replaced by the owner's index: one
    // primitive sort orders nodes and carries owners along (ties in the top 44 bits are negligible).
    long[] nodes = new long[total];
    int k = 0;
    for (int i = 0; i < n; i++) {
      long base = Hashing.hash(ids[i]);
      for (int v = 0; v < counts[i]; v++) {
        nodes[k++] = (Hashing.mix(base + v * 0x9e3779b97f4a7c15L) & ~OWNER_MASK) | i;
      }
    }
    // unsigned order: flip the sign bit, sort signed, flip back
    for (int j = 0; j < total; j++) {
      nodes[j] ^= Long.MIN_VALUE;
    }
    Arrays.sort(nodes);
    hashes = new long[total];
    owners = new int[total];
    for (int j = 0; j < total; j++) {
      long h = nodes[j] ^ Long.MIN_VALUE;
      hashes[j] = h;
      owners[j] = (int) (h & OWNER_MASK);
    }
  }

  @Override
  public int pick(long random, long keyHash) {
    int n = hashes.length;
    if (n == 0) {
      return NONE;
    }
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], keyHash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return owners[lo == n ? 0 : lo];
  }
}
