package io.lodestar.core.kv;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.KvDelete;
import io.lodestar.api.v1.state.KvEntry;
import io.lodestar.api.v1.state.KvPut;
import io.lodestar.api.v1.state.KvResult;
import io.lodestar.api.v1.state.KvSnapshot;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A key/value store with one store-wide index, as Consul's KV has: every write takes the next
 * index, an entry remembers the index that created it and the one that last changed it, and a
 * compare-and-set names the modify index it expects. That global, gap-free order is what lets a
 * blocking read of a prefix ask "has anything under it changed since index N?", which per-key
 * version counters (the config centre's) cannot answer.
 *
 * <p>A delete leaves a tombstone carrying the delete's index, so a read of a prefix whose last key
 * was deleted still reports a higher index than before. Tombstones are bounded: past
 * {@link #MAX_TOMBSTONES} the oldest is dropped and its index becomes the {@code floor} that every
 * read reports at least (Consul's tombstone GC does the same), so an index never goes back.
 *
 * <p>Each key keeps its last {@link #HISTORY_LIMIT} earlier values (newest first), through a
 * delete too, so an overwritten or deleted value can be read back, as the config centre keeps
 * versions.
 *
 * <p>Threading: {@link #apply} and {@link #flush} run on the log's applier thread; reads run on
 * any thread over a concurrent sorted map of immutable entries. Deterministic: no clock, no
 * randomness, tombstones are dropped by count in index order.
 */
public final class KvStore {
  public static final int MAX_KEY_LENGTH = 512;
  public static final int MAX_VALUE_BYTES = 512 * 1024;
  static final int MAX_TOMBSTONES = 10_000;
  /** Earlier values kept per key, as the config centre keeps versions. */
  public static final int HISTORY_LIMIT = 10;

  private final Predicate<String> namespaceExists;
  private final ConcurrentSkipListMap<KvKey, KvEntry> entries = new ConcurrentSkipListMap<>();
  // tombstones in the order they were made (= index order); applier thread only
  private final LinkedHashMap<KvKey, Long> tombstones = new LinkedHashMap<>();
  private final Set<String> dirty = new LinkedHashSet<>();
  private final List<KvListener> listeners = new CopyOnWriteArrayList<>();
  private volatile long index;
  private volatile long floor;

  /** @param namespaceExists asked on the applier thread whether a namespace exists */
  public KvStore(Predicate<String> namespaceExists) {
    this.namespaceExists = namespaceExists;
  }

  public void addListener(KvListener listener) {
    listeners.add(listener);
  }

  // ------------------------------------------------------------------ reads (any thread)

  /** The live entry of a key, or null. */
  public KvEntry get(String namespace, String key) {
    KvEntry e = entries.get(new KvKey(namespace, key));
    return e == null || e.getDeleted() ? null : e;
  }

  /** Live entries whose key starts with the prefix, in key order. */
  public List<KvEntry> list(String namespace, String prefix) {
    List<KvEntry> out = new ArrayList<>();
    for (KvEntry e : range(namespace, prefix).values()) {
      if (!e.getDeleted()) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * The index a read of this prefix (or, exact, of this one key) reports: the highest index that
   * changed anything it covers, deletes included; at least the floor and at least 1.
   */
  public long indexOf(String namespace, String prefix, boolean exact) {
    long max = Math.max(1, floor);
    if (exact) {
      KvEntry e = entries.get(new KvKey(namespace, prefix));
      return e == null ? max : Math.max(max, e.getModifyIndex());
    }
    for (KvEntry e : range(namespace, prefix).values()) {
      max = Math.max(max, e.getModifyIndex());
    }
    return max;
  }

  /** The store's index: the last write's. */
  public long index() {
    return index;
  }

  /** Whether a namespace holds any live key. */
  public boolean hasKeys(String namespace) {
    for (KvEntry e : range(namespace, "").values()) {
      if (!e.getDeleted()) {
        return true;
      }
    }
    return false;
  }

  private NavigableMap<KvKey, KvEntry> range(String namespace, String prefix) {
    KvKey from = new KvKey(namespace, prefix);
    // every key that starts with the prefix sorts before prefix + U+FFFF
    KvKey to = new KvKey(namespace, prefix + '\uffff');
    return entries.subMap(from, true, to, false);
  }

  // ------------------------------------------------------------------ validation (any thread)

  /** Whether this store owns the command. */
  public static boolean handles(Command cmd) {
    return cmd.hasKvPut() || cmd.hasKvDelete();
  }

  /** Stateless checks, before a command is logged. */
  public static void validate(Command cmd) {
    if (cmd.hasKvPut()) {
      KvPut p = cmd.getKvPut();
      Validation.name("namespace", p.getNamespace());
      key(p.getKey(), false);
      if (p.getValue().size() > MAX_VALUE_BYTES) {
        throw new LodestarException(LodestarException.Code.TOO_LARGE,
            "value is larger than " + MAX_VALUE_BYTES + " bytes", "value");
      }
    } else if (cmd.hasKvDelete()) {
      KvDelete d = cmd.getKvDelete();
      Validation.name("namespace", d.getNamespace());
      key(d.getKey(), d.getRecurse());
      if (d.getRecurse() && d.hasCas()) {
        throw LodestarException.invalid("cas", "cas applies to one key, not to a recursive delete");
      }
    } else {
      throw LodestarException.invalid("kind", "not a key/value command: " + cmd.getKindCase());
    }
  }

  /** A key: 1–512 characters (empty only as the prefix of a recursive delete), no control characters. */
  public static String key(String key, boolean prefixAllowedEmpty) {
    if (key.isEmpty() && !prefixAllowedEmpty) {
      throw LodestarException.invalid("key", "key is required");
    }
    if (key.length() > MAX_KEY_LENGTH) {
      throw LodestarException.invalid("key", "key is longer than " + MAX_KEY_LENGTH + " characters");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\uffff') {
        throw LodestarException.invalid("key", "key has a control character at position " + i);
      }
    }
    return key;
  }

  // ------------------------------------------------------------------ apply (applier thread)

  /** Applies one command. Deterministic; throws before mutating anything. */
  public CommandResult apply(Command cmd) {
    validate(cmd);
    boolean ok = cmd.hasKvPut() ? put(cmd.getKvPut()) : delete(cmd.getKvDelete());
    return CommandResult.newBuilder().setKv(KvResult.newBuilder().setOk(ok).setIndex(index)).build();
  }

  private boolean put(KvPut p) {
    requireNamespace(p.getNamespace());
    KvKey k = new KvKey(p.getNamespace(), p.getKey());
    KvEntry old = entries.get(k);
    boolean live = old != null && !old.getDeleted();
    if (p.hasCas() && p.getCas() != (live ? old.getModifyIndex() : 0)) {
      return false;
    }
    long at = ++index;
    entries.put(k, KvEntry.newBuilder().setNamespace(k.namespace()).setKey(k.key()).setValue(p.getValue())
        .setFlags(p.getFlags()).setCreateIndex(live ? old.getCreateIndex() : at).setModifyIndex(at)
        .addAllHistory(history(old)).build());
    tombstones.remove(k);
    dirty.add(k.namespace());
    return true;
  }

  private boolean delete(KvDelete d) {
    requireNamespace(d.getNamespace());
    List<KvEntry> doomed;
    if (d.getRecurse()) {
      doomed = list(d.getNamespace(), d.getKey());
    } else {
      KvEntry e = get(d.getNamespace(), d.getKey());
      if (d.hasCas() && d.getCas() != (e == null ? 0 : e.getModifyIndex())) {
        return false;
      }
      doomed = e == null ? List.of() : List.of(e);
    }
    if (doomed.isEmpty()) {
      return true;  // deleting what is not there succeeds and changes nothing
    }
    long at = ++index;
    for (KvEntry e : doomed) {
      KvKey k = new KvKey(e.getNamespace(), e.getKey());
      entries.put(k, KvEntry.newBuilder().setNamespace(k.namespace()).setKey(k.key()).setModifyIndex(at)
          .setDeleted(true).addAllHistory(history(e)).build());
      tombstones.put(k, at);
    }
    // drop the oldest tombstones beyond the cap; the index they carried becomes the floor
    while (tombstones.size() > MAX_TOMBSTONES) {
      Map.Entry<KvKey, Long> oldest = tombstones.entrySet().iterator().next();
      tombstones.remove(oldest.getKey());
      entries.remove(oldest.getKey());
      floor = Math.max(floor, oldest.getValue());
    }
    dirty.add(d.getNamespace());
    return true;
  }

  /** The history a key's next entry carries: the entry it replaces (if it held a value) first. */
  private static List<KvEntry> history(KvEntry old) {
    if (old == null) {
      return List.of();
    }
    List<KvEntry> h = new ArrayList<>(HISTORY_LIMIT);
    if (!old.getDeleted()) {
      h.add(old.toBuilder().clearHistory().build());
    }
    for (KvEntry e : old.getHistoryList()) {
      if (h.size() == HISTORY_LIMIT) {
        break;
      }
      h.add(e);
    }
    return h;
  }

  /** A key's entry with its history, deleted or not; null when the store has never had it (or forgot it). */
  public KvEntry withHistory(String namespace, String key) {
    return entries.get(new KvKey(namespace, key));
  }

  private void requireNamespace(String ns) {
    if (!namespaceExists.test(ns)) {
      throw LodestarException.notFound("namespace " + ns + " does not exist");
    }
  }

  /** Ends a batch: tells listeners which namespaces changed. */
  public void flush() {
    if (dirty.isEmpty()) {
      return;
    }
    List<String> changed = new ArrayList<>(dirty);
    dirty.clear();
    for (String ns : changed) {
      for (KvListener l : listeners) {
        l.onKvChanged(ns);
      }
    }
  }

  // ------------------------------------------------------------------ snapshots

  /** The whole state, sorted by key. Call on the applier thread. */
  public KvSnapshot snapshot() {
    return KvSnapshot.newBuilder().setIndex(index).setFloor(floor).addAllEntries(entries.values()).build();
  }

  /** Replaces the whole state; listeners hear of every namespace that had or has keys. */
  public void restore(KvSnapshot snap) {
    entries.values().forEach(e -> dirty.add(e.getNamespace()));
    entries.clear();
    tombstones.clear();
    List<KvEntry> dead = new ArrayList<>();
    for (KvEntry e : snap.getEntriesList()) {
      entries.put(new KvKey(e.getNamespace(), e.getKey()), e);
      dirty.add(e.getNamespace());
      if (e.getDeleted()) {
        dead.add(e);
      }
    }
    dead.sort(Comparator.comparingLong(KvEntry::getModifyIndex));
    dead.forEach(e -> tombstones.put(new KvKey(e.getNamespace(), e.getKey()), e.getModifyIndex()));
    index = snap.getIndex();
    floor = snap.getFloor();
    flush();
  }
}
