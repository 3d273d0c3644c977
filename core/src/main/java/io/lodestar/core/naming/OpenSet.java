package io.lodestar.core.naming;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * A hash set by open addressing (linear probing): one array slot per element and no entry object,
 * for the per-instance indexes (an owner's instance ids, a stream's registrations), where a
 * {@code HashMap} or {@code ConcurrentHashMap} entry (32 B) and its table slot cost more than
 * what they index. Elements are found by their key ({@code hash}, {@code sameKey}); iteration
 * order is the table's, so callers that need an order sort. Not thread-safe.
 */
public final class OpenSet<E> {
  private static final int MIN_CAPACITY = 4;
  private final ToIntFunction<E> hash;
  private final BiPredicate<E, E> sameKey;
  private Object[] slots = new Object[MIN_CAPACITY];
  private int size;

  public OpenSet(ToIntFunction<E> hash, BiPredicate<E, E> sameKey) {
    this.hash = hash;
    this.sameKey = sameKey;
  }

  /** A set of strings by equality. */
  public static OpenSet<String> ofStrings() {
    return new OpenSet<>(String::hashCode, String::equals);
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Adds {@code e}, or replaces the element with its key; returns the replaced one, or null. */
  @SuppressWarnings("unchecked")
  public E put(E e) {
    int h = hash.applyAsInt(e);
    int mask = slots.length - 1;
    for (int i = slot(h, slots.length); ; i = (i + 1) & mask) {
      Object x = slots[i];
      if (x == null) {
        slots[i] = e;
        if (++size * 4 > slots.length * 3) {
          resize(slots.length * 2);
        }
        return null;
      }
      if (sameKey.test((E) x, e)) {
        slots[i] = e;
        return (E) x;
      }
    }
  }

  /** The element with the given key's hash that {@code matches}, or null. */
  @SuppressWarnings("unchecked")
  public E find(int keyHash, Predicate<E> matches) {
    int mask = slots.length - 1;
    for (int i = slot(keyHash, slots.length); ; i = (i + 1) & mask) {
      Object x = slots[i];
      if (x == null) {
        return null;
      }
      if (matches.test((E) x)) {
        return (E) x;
      }
    }
  }

  public boolean contains(E e) {
    return find(hash.applyAsInt(e), x -> sameKey.test(x, e)) != null;
  }

  /** Removes the element with {@code e}'s key; whether there was one. */
  public boolean remove(E e) {
    return remove(hash.applyAsInt(e), x -> sameKey.test(x, e)) != null;
  }

  /** Removes the element with the given key's hash that {@code matches}; returns it, or null. */
  @SuppressWarnings("unchecked")
  public E remove(int keyHash, Predicate<E> matches) {
    int mask = slots.length - 1;
    int i = slot(keyHash, slots.length);
    for (; ; i = (i + 1) & mask) {
      Object x = slots[i];
      if (x == null) {
        return null;
      }
      if (matches.test((E) x)) {
        break;
      }
    }
    E removed = (E) slots[i];
    slots[i] = null;
    size--;
    // backward shift: move up any later element of the run whose home slot is not after the gap,
    // so that every element stays reachable from its home slot without tombstones
    for (int j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
      int home = slot(hash.applyAsInt((E) slots[j]), slots.length);
      boolean between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!between) {
        slots[i] = slots[j];
        slots[j] = null;
        i = j;
      }
    }
    if (slots.length > MIN_CAPACITY && size * 8 < slots.length) {
      resize(slots.length / 2);
    }
    return removed;
  }

  public void clear() {
    slots = new Object[MIN_CAPACITY];
    size = 0;
  }

  @SuppressWarnings("unchecked")
  public void forEach(Consumer<? super E> action) {
    for (Object x : slots) {
      if (x != null) {
        action.accept((E) x);
      }
    }
  }

  /** The elements, copied, in the table's order. */
  public List<E> toList() {
    List<E> out = new ArrayList<>(size);
    forEach(out::add);
    return out;
  }

  @SuppressWarnings("unchecked")
  private void resize(int capacity) {
    Object[] old = slots;
    slots = new Object[capacity];
    int mask = capacity - 1;
    for (Object x : old) {
      if (x != null) {
        int i = slot(hash.applyAsInt((E) x), capacity);
        while (slots[i] != null) {
          i = (i + 1) & mask;
        }
        slots[i] = x;
      }
    }
  }

  /** Home slot of a hash in a table of {@code capacity} (a power of two): Fibonacci hashing. */
  private static int slot(int h, int capacity) {
    return (h * 0x9E3779B9) >>> (32 - Integer.numberOfTrailingZeros(capacity));
  }
}
