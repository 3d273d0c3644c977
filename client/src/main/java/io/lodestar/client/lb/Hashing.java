package io.lodestar.client.lb;

/**
 * The 64-bit hash used for call keys and ring positions: FNV-1a over UTF-16 chars, finished with
 * MurmurHash3's fmix64 so that nearby keys spread over the whole range. Stable across processes
 * and versions (it is part of which instance a key lands on), and allocation-free.
 */
public final class Hashing {
  private Hashing() {}

  public static long hash(CharSequence s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0, n = s.length(); i < n; i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  /** MurmurHash3 fmix64: a bijective avalanche of 64 bits. */
  public static long mix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
