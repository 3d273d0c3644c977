package io.lodestar.core.naming;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * One service's stored instances by id: an open-addressing table (linear probing) with a slot per
 * instance and no entry object, where a {@code ConcurrentHashMap} paid a 32 B node and its table
 * slot per instance. The stored instance is its own key (its id).
 *
 * <p>Threading: one writer (the registry's applier) and lock-free readers on any thread. A reader
 * reads the array once and probes it; the writer never moves an element within an array: a removal
 * leaves a tombstone (a later put may take it), and a resize fills a new array and then publishes
 * it whole. Slots are written with release and read with acquire ({@link #forEach}: a group read
 * plainly, then one acquire fence), so a reader sees an instance fully built, and an instance
 * present before and after a write is never missed by a reader.
 */
public final class InstanceTable {
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
  private static final Object TOMBSTONE = new Object();
  private static final int MIN_CAPACITY = 4;

  private volatile Object[] slots = new Object[MIN_CAPACITY];
  private volatile int size;
  private int used; // live slots and tombstones; writer only

  /** The instance with this id, or null. Any thread. */
  public StoredInstance get(String id) {
    Object[] t = slots;
    int cap = t.length;
    int i = home(id.hashCode(), cap);
    for (int n = 0; n < cap; n++) {
      Object x = SLOT.getAcquire(t, i);
      if (x == null) {
        return null;
      }
      if (x != TOMBSTONE && ((StoredInstance) x).idEquals(id)) {
        return (StoredInstance) x;
      }
      if (++i == cap) {
        i = 0;
      }
    }
    return null;
  }

  /** The instance with {@code key}'s id, or null. Any thread. */
  public StoredInstance get(StoredInstance key) {
    Object[] t = slots;
    int cap = t.length;
    int i = home(key.idHash(), cap);
    for (int n = 0; n < cap; n++) {
      Object x = SLOT.getAcquire(t, i);
      if (x == null) {
        return null;
      }
      if (x != TOMBSTONE && ((StoredInstance) x).sameId(key)) {
        return (StoredInstance) x;
      }
      if (++i == cap) {
        i = 0;
      }
    }
    return null;
  }

  /** How many instances. Any thread. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /**
   * Every instance, in the table's order (callers that need an order sort). Any thread.
   *
   * <p>The instances are visited a group at a time: their references are read first, then one
   * field of each, then the action runs on each. A walk over a large table (the health checker's,
   * over every lease) waits on memory, one instance at a time, when each first read comes only
   * after the previous action; read together, a group's cache misses overlap.
   */
  public void forEach(Consumer<? super StoredInstance> action) {
    Object[] t = slots;
    StoredInstance[] group = new StoredInstance[GROUP];
    int n = 0;
    for (int i = 0; i < t.length; i++) {
      Object x = t[i];
      if (x != null && x != TOMBSTONE) {
        group[n++] = (StoredInstance) x;
        if (n == GROUP) {
          visit(group, n, action);
          n = 0;
        }
      }
    }
    visit(group, n, action);
  }

  /** Instances whose first reads are issued together: enough to overlap misses, few enough to stay in cache. */
  private static final int GROUP = 16;

  private static void visit(StoredInstance[] group, int n, Consumer<? super StoredInstance> action) {
    // the plain reads of the slots above, as acquiring ones: a reader sees each instance fully built
    VarHandle.acquireFence();
    for (int j = 0; j < n; j++) {
      group[j].leaseState();
    }
    for (int j = 0; j < n; j++) {
      action.accept(group[j]);
    }
  }

  /** The instances, copied, in the table's order. Writer thread (its size is then exact). */
  StoredInstance[] toArray() {
    Object[] t = slots;
    StoredInstance[] out = new StoredInstance[size];
    int n = 0;
    for (Object x : t) {
      if (x != null && x != TOMBSTONE) {
        out[n++] = (StoredInstance) x;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ writer (applier thread)

  /** Adds {@code e}, or replaces the instance with its id; returns the replaced one, or null. */
  StoredInstance put(StoredInstance e) {
    Object[] t = slots;
    int cap = t.length;
    int i = home(e.idHash(), cap);
    int free = -1; // the first tombstone on the way: reused when the id is not further on
    for (Object x = t[i]; x != null; x = t[i]) {
      if (x == TOMBSTONE) {
        if (free < 0) {
          free = i;
        }
      } else {
        StoredInstance s = (StoredInstance) x;
        if (s.sameId(e)) {
          SLOT.setRelease(t, i, e);
          return s;
        }
      }
      if (++i == cap) {
        i = 0;
      }
    }
    if (free >= 0) {
      SLOT.setRelease(t, free, e);
    } else if ((used + 1) * 5 > cap * 4) { // above 0.8 with tombstones: a new array, without them
      rehash(size + 1, e);
      return null;
    } else {
      SLOT.setRelease(t, i, e);
      used++;
    }
    size = size + 1;
    return null;
  }

  /** Removes the instance with this id; returns it, or null. */
  StoredInstance remove(String id) {
    Object[] t = slots;
    int cap = t.length;
    int i = home(id.hashCode(), cap);
    for (Object x = t[i]; x != null; x = t[i]) {
      if (x != TOMBSTONE) {
        StoredInstance s = (StoredInstance) x;
        if (s.idEquals(id)) {
          SLOT.setRelease(t, i, TOMBSTONE); // not null: a later instance of this run must stay reachable
          int left = size - 1;
          size = left;
          if (cap > MIN_CAPACITY && left * 4 < cap) {
            rehash(left, null);
          }
          return s;
        }
      }
      if (++i == cap) {
        i = 0;
      }
    }
    return null;
  }

  void clear() {
    slots = new Object[MIN_CAPACITY];
    used = 0;
    size = 0;
  }

  /** Capacity of the array slots is read through (for tests). */
  int capacity() {
    return slots.length;
  }

  /** Copies the live instances (and {@code extra}, if not null) into a new array sized for {@code live}, then publishes it. */
  private void rehash(int live, StoredInstance extra) {
    // load 2/3 after a rehash, up to 0.8 before the next: ~5.5 B per instance with compressed oops
    int cap = Math.max(MIN_CAPACITY, live + (live >> 1) + 1);
    Object[] next = new Object[cap];
    for (Object x : slots) {
      if (x != null && x != TOMBSTONE) {
        place(next, (StoredInstance) x);
      }
    }
    if (extra != null) {
      place(next, extra);
    }
    used = live;
    size = live;
    slots = next; // volatile: publishes the filled array whole
  }

  private static void place(Object[] t, StoredInstance e) {
    int cap = t.length;
    int i = home(e.idHash(), cap);
    while (t[i] != null) {
      if (++i == cap) {
        i = 0;
      }
    }
    t[i] = e;
  }

  /** Home slot of a hash in a table of any capacity: the mixed hash scaled to the range (no modulo). */
  private static int home(int h, int cap) {
    return (int) (((h * 0x9E3779B9) & 0xFFFFFFFFL) * cap >>> 32);
  }
}
