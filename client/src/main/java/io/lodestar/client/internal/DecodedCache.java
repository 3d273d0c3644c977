package io.lodestar.client.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Immutable values decoded from bytes, kept so that the same bytes met again (in a later answer,
 * on any client of the JVM) hand out the value decoded before instead of decoding it again.
 *
 * <p>Why: a fetch's answer carries the same instances with the same metadata answer after answer
 * (W4, uncached reads); decoding them again was most of a reader's CPU. The value handed out is
 * the one decoding these exact bytes gives (an equal, immutable value), and every byte of the
 * answer is still read and compared: nothing of the answer is skipped or assumed.
 *
 * <p>Bounded: a fixed number of slots (two candidate slots per key, the newcomer replaces one),
 * keys above a size are not kept. Lock-free and safe for concurrent readers on several event loops:
 * a slot holds one {@link Entry} whose fields are final, so a reader sees an entry whole or the
 * one before it; a lost race only costs a decode.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public final class DecodedCache<V> {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final Entry<V>[] slots;
  private final int maxKeyBytes;

  /**
   * @param slots a power of two
   * @param maxKeyBytes keys longer than this are neither kept nor looked up
   */
  @SuppressWarnings("unchecked")
  public DecodedCache(int slots, int maxKeyBytes) {
    if (Integer.bitCount(slots) != 1) {
      throw new IllegalArgumentException("slots must be a power of two: " + slots);
    }
    this.slots = (Entry<V>[]) new Entry<?>[slots];
    this.maxKeyBytes = maxKeyBytes;
  }

  /**
   * The value decoded from {@code buf[at, at + length)} before, or null (always for keys longer
   * than kept); {@code hash} from {@link #hash}.
   */
  public V get(byte[] buf, int at, int length, int hash) {
    if (length > maxKeyBytes) {
      return null;
    }
    int mask = slots.length - 1;
    Entry<V> e = slots[hash & mask];
    if (e != null && e.matches(buf, at, length, hash)) {
      return e.value;
    }
    e = slots[(hash ^ 1) & mask];
    if (e != null && e.matches(buf, at, length, hash)) {
      return e.value;
    }
    return null;
  }

  /** Keeps a value decoded from those bytes (copied), after {@link #get} found none. */
  public void put(byte[] buf, int at, int length, int hash, V value) {
    if (length > maxKeyBytes) {
      return;
    }
    int mask = slots.length - 1;
    int slot = hash & mask;
    if (slots[slot] != null && slots[(hash ^ 1) & mask] == null) {
      slot = (hash ^ 1) & mask;  // the other candidate is free: keep both
    }
    slots[slot] = new Entry<>(Arrays.copyOfRange(buf, at, at + length), hash, value);
  }

  /** A hash of {@code buf[at, at + length)}, eight bytes a step (an instance is a hundred bytes or more). */
  public static int hash(byte[] buf, int at, int length) {
    long h = length;
    int k = at;
    for (int end = at + length - 7; k < end; k += 8) {
      h = h * 0x9E3779B97F4A7C15L + (long) LONGS.get(buf, k);
    }
    for (int end = at + length; k < end; k++) {
      h = h * 31 + buf[k];
    }
    h *= 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  private static final class Entry<V> {
    final byte[] key;
    final int hash;
    final V value;

    Entry(byte[] key, int hash, V value) {
      this.key = key;
      this.hash = hash;
      this.value = value;
    }

    boolean matches(byte[] buf, int at, int length, int h) {
      return hash == h && key.length == length && Arrays.equals(key, 0, length, buf, at, at + length);
    }
  }
}
