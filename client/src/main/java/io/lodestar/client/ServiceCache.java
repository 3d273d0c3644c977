package io.lodestar.client;

import io.lodestar.client.internal.Instances;
import io.lodestar.client.internal.RuleSet;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.client.ServiceEntry.ListenerHandle;
import io.lodestar.client.internal.Logs;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The services this client discovers: their current lists, their subscriptions on the stream,
 * their listeners and their failover files.
 *
 * <p>Concurrency: the entry maps are concurrent and only ever grow, so a lookup is two lock-free
 * {@code get}s with no allocation. Everything else runs on the control thread (owned by
 * {@link Connection}): updates are applied there in stream order, each one producing a new
 * {@link ServiceSnapshot} published by one volatile write, then an event per listener, then a
 * (coalesced) disk write.
 *
 * <p>Revisions: a snapshot replaces the list whatever its revision (the server may have lost
 * state). A delta applies only on top of the revision it names; otherwise the entry resubscribes
 * with the revision it holds and ignores further deltas until the answer arrives. Lists loaded
 * from disk are served but never trusted as a delta base: they resubscribe from revision 0.
 *
 * <p>A server being down never empties an entry: only a server's snapshot or delta, or the last
 * subscriber leaving, changes it.
 */
final class ServiceCache {
  private static final System.Logger LOG = Logs.get(LodestarClient.class.getName());

  private final ConcurrentHashMap<String, ConcurrentHashMap<String, ServiceEntry>> byNamespace =
      new ConcurrentHashMap<>();
  private final Connection connection;
  private final DiskCache disk;  // null: no failover cache
  private final Executor listenerExecutor;

  ServiceCache(Connection connection, DiskCache disk, Executor listenerExecutor) {
    this.connection = connection;
    this.disk = disk;
    this.listenerExecutor = listenerExecutor;
  }

  // ------------------------------------------------------------------ any thread

  /** The entry, or null: two lock-free lookups, no allocation. */
  ServiceEntry find(String namespace, String service) {
    ConcurrentHashMap<String, ServiceEntry> m = byNamespace.get(namespace);
    return m == null ? null : m.get(service);
  }

  ServiceEntry getOrCreate(String namespace, String service) {
    ServiceEntry e = find(namespace, service);
    if (e != null) {
      return e;
    }
    return byNamespace.computeIfAbsent(namespace, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(service, k -> new ServiceEntry(namespace, service));
  }

  ListenerHandle newHandle(ServiceEntry e, ServiceListener l) {
    return new ListenerHandle(l, new SerialDispatcher<>(listenerExecutor, l::onChange, e + " listener " + l));
  }

  // ------------------------------------------------------------------ control thread

  int knownCount() {
    int n = 0;
    for (Map<String, ServiceEntry> m : byNamespace.values()) {
      for (ServiceEntry e : m.values()) {
        if (e.snapshot != null) {
          n++;
        }
      }
    }
    return n;
  }

  void ensureActive(ServiceEntry e) {
    if (e.active) {
      return;
    }
    e.active = true;
    if (connection.isReady()) {
      subscribe(e);
    } else if (connection.inTrouble()) {
      loadFromDisk(e);
    }
  }

  /** Called after a listener left: stops the subscription when nobody needs it any more. */
  void maybeDeactivate(ServiceEntry e) {
    if (!e.active || e.pinned || !e.listeners.isEmpty()) {
      return;
    }
    e.active = false;
    connection.unsubscribe(e.namespace, e.service);
    if (e.subscribeRequestId != 0) {
      connection.forget(e.subscribeRequestId);
      e.subscribeRequestId = 0;
    }
    e.snapshot = null;
    e.snapshotFromDisk = false;
    e.byId = Map.of();
    e.revision = 0;
    e.revisionTrusted = false;
    e.resyncPending = false;
    e.info = ServiceInfo.getDefaultInstance();
    CompletableFuture<Void> old = e.ready;
    e.ready = new CompletableFuture<>();
    old.complete(null);  // any waiter re-checks and finds the new future
  }

  /** Starts a listener: the current list as its first event (if one is known), then every change. */
  void attach(ServiceEntry e, ListenerHandle h) {
    if (h.attached || !e.listeners.contains(h)) {
      return;
    }
    h.attached = true;
    ensureActive(e);
    ServiceSnapshot s = e.snapshot;
    if (s != null) {
      h.dispatcher.offer(new ServiceEvent(s, s.instances(), List.of(), List.of(), e.snapshotFromDisk));
    }
  }

  void onConnected() {
    forEachActive(this::subscribe);
  }

  /** No stream: entries that have no list yet take the one on disk, if any. */
  void onTrouble() {
    forEachActive(e -> {
      if (e.snapshot == null) {
        loadFromDisk(e);
      }
    });
  }

  void onClosed() {
    LodestarClientException ex = Connection.closedException();
    forEachEntry(e -> e.ready.completeExceptionally(ex));
  }

  void onUpdate(ServiceUpdate u) {
    onUpdate(u, null);
  }

  /** @param decoded the update's instances in the SDK's form, if already decoded (shared, immutable); else null */
  void onUpdate(ServiceUpdate u, List<Instance> decoded) {
    ServiceEntry e = find(u.getNamespace(), u.getService());
    if (e == null || !e.active) {
      return;  // unsubscribed meanwhile
    }
    if (e.subscribeRequestId != 0) {
      connection.forget(e.subscribeRequestId);  // answered
      e.subscribeRequestId = 0;
    }
    ServiceInfo info = u.hasInfo() ? u.getInfo() : e.info;
    if (u.getSnapshot()) {
      Map<String, Instance> next = new HashMap<>(u.getInstancesCount() * 2);
      for (Instance i : decoded != null ? decoded : Instances.fromProto(u.getInstancesList())) {
        next.put(i.id(), i);
      }
      publish(e, next, u.getRevision(), info, false, u.getEmptiedByExpiry(), null);
      return;
    }
    if (!e.revisionTrusted || u.getBaseRevision() != e.revision) {
      if (!e.resyncPending) {
        LOG.log(Level.DEBUG, "{0}: delta from {1} does not fit revision {2}; resubscribing", e, u.getBaseRevision(),
            e.revision);
        e.resyncPending = true;
        subscribe(e);
      }
      return;
    }
    // decoded whole before the map changes
    List<Instance> upserts = decoded != null ? decoded : Instances.fromProto(u.getInstancesList());
    // The entry's map is edited in place (it is this thread's alone; snapshots hold their own
    // lists): copying the whole service for a change of one instance was a quarter of a W2
    // watcher's CPU. What a named id held before goes to publish, to compare against.
    Map<String, Instance> next = e.byId instanceof HashMap ? e.byId : new HashMap<>(e.byId);
    Map<String, Instance> previous = new LinkedHashMap<>();
    for (Instance i : upserts) {
      Instance old = next.put(i.id(), i);
      if (!previous.containsKey(i.id())) {
        previous.put(i.id(), old);
      }
    }
    for (String id : u.getRemovedIdsList()) {
      Instance old = next.remove(id);
      if (!previous.containsKey(id)) {
        previous.put(id, old);
      }
    }
    publish(e, next, u.getRevision(), info, false, u.getEmptiedByExpiry(), previous);
  }

  // ------------------------------------------------------------------ internals (control thread)

  private void subscribe(ServiceEntry e) {
    long known = e.revisionTrusted ? e.revision : 0;
    if (e.subscribeRequestId != 0) {
      connection.forget(e.subscribeRequestId);
    }
    e.subscribeRequestId = connection.subscribe(e.namespace, e.service, known, err -> {
      LOG.log(Level.WARNING, "Lodestar: subscribing to {0} failed: {1}: {2}", e, err.getCode(), err.getMessage());
      e.subscribeRequestId = 0;
      e.resyncPending = false;
      if (e.snapshot == null) {
        e.active = false;  // the next read asks again (e.g. once the namespace exists)
        CompletableFuture<Void> old = e.ready;
        e.ready = new CompletableFuture<>();
        old.completeExceptionally(Connection.toException(err));
      }
    });
  }

  private void loadFromDisk(ServiceEntry e) {
    if (disk == null || e.diskLoadRequested) {
      return;
    }
    e.diskLoadRequested = true;
    disk.loadAsync(e.namespace, e.service, found -> connection.post(() -> applyFromDisk(e, found)));
  }

  private void applyFromDisk(ServiceEntry e, Optional<ServiceUpdate> found) {
    e.diskLoadRequested = false;
    if (!e.active || e.snapshot != null || found.isEmpty()) {
      return;
    }
    ServiceUpdate u = found.get();
    Map<String, Instance> next = new HashMap<>();
    for (Instance i : Instances.fromProto(u.getInstancesList())) {
      next.put(i.id(), i);
    }
    LOG.log(Level.INFO, "Lodestar: serving {0} from the failover cache ({1} instances, revision {2})", e,
        next.size(), u.getRevision());
    publish(e, next, u.getRevision(), u.getInfo(), true, false, null);
  }

  /**
   * Installs the service's next list and tells its listeners what changed.
   *
   * @param next the server's list: what later deltas apply to
   * @param emptiedByExpiry the server says an empty list is empty because leases expired: callers
   *     keep the last non-empty list, marked {@link ServiceSnapshot#expiryHeld()}
   * @param previous for a delta, each id it named with what the cache held for it before (null:
   *     none); only those can differ from the list the cache held. Null for a whole list.
   */
  private void publish(ServiceEntry e, Map<String, Instance> next, long revision, ServiceInfo info,
      boolean fromDisk, boolean emptiedByExpiry, Map<String, Instance> previous) {
    ServiceSnapshot before = e.snapshot;
    if (next.isEmpty() && emptiedByExpiry && before != null && !before.instances().isEmpty()) {
      if (!before.expiryHeld()) {
        LOG.log(Level.WARNING, "Lodestar: the server lists no instance of {0} because their leases expired, "
            + "likely a partition between them and the server; serving the last {1} instances until it lists "
            + "some again (ServiceSnapshot.expiryHeld)", e, before.instances().size());
      }
      ServiceSnapshot held = before.heldAt(revision, info.getProtectThreshold(), RuleSet.of(info.getRules()));
      install(e, next, revision, info, fromDisk, held);
      if (!before.expiryHeld()) {
        ServiceEvent ev = new ServiceEvent(held, List.of(), List.of(), List.of(), fromDisk);
        for (ListenerHandle h : e.listeners) {
          if (h.attached) {
            h.dispatcher.offer(ev);
          }
        }
      }
      return;
    }
    List<Instance> added = new ArrayList<>();
    List<Instance> changed = new ArrayList<>();
    List<Instance> removed = new ArrayList<>();
    // a delta on the list callers saw (e.byId's, not one held through an expiry): only the ids it
    // names can differ, so compare those instead of every instance of the service (W2: one added
    // instance per change)
    boolean delta = previous != null && before != null && !before.expiryHeld();
    if (delta) {
      for (Map.Entry<String, Instance> named : previous.entrySet()) {
        Instance old = named.getValue();
        Instance now = next.get(named.getKey());
        if (old == null && now != null) {
          added.add(now);
        } else if (old != null && now == null) {
          removed.add(old);
        } else if (old != null && !old.equals(now)) {
          changed.add(now);
        }
      }
    } else {
      // the list callers saw: the server's, or the one held through an expiry
      Map<String, Instance> prev = new HashMap<>();
      if (before != null) {
        before.instances().forEach(i -> prev.put(i.id(), i));
      }
      for (Instance i : next.values()) {
        Instance old = prev.get(i.id());
        if (old == null) {
          added.add(i);
        } else if (!old.equals(i)) {
          changed.add(i);
        }
      }
      for (Instance old : prev.values()) {
        if (!next.containsKey(old.id())) {
          removed.add(old);
        }
      }
    }
    // a delta edits the previous list (sorted by id) in place, so the snapshot takes it as it is
    // instead of sorting the whole service again (or checking it is sorted) for one instance
    Instance[] sorted = delta ? sortedAfter(before.instances(), added, changed, removed) : null;
    double threshold = ServiceSnapshot.effectiveThreshold(info.getProtectThreshold());
    ServiceSnapshot snap = sorted != null
        ? ServiceSnapshot.ofSorted(e.namespace, e.service, revision, sorted, threshold, RuleSet.of(info.getRules()))
        : ServiceSnapshot.of(e.namespace, e.service, revision, List.copyOf(next.values()), threshold,
            RuleSet.of(info.getRules()));
    install(e, next, revision, info, fromDisk, snap);

    boolean firstList = before == null;
    boolean selectionChanged = before != null && (before.expiryHeld()
        || before.protectionApplied() != snap.protectionApplied()
        || before.protectThreshold() != snap.protectThreshold()
        || !before.rules().equals(snap.rules()));  // governance rules ride the same events
    if (firstList || !added.isEmpty() || !removed.isEmpty() || !changed.isEmpty() || selectionChanged) {
      sortById(added);
      sortById(changed);
      sortById(removed);
      ServiceEvent ev = new ServiceEvent(snap, added, removed, changed, fromDisk);
      for (ListenerHandle h : e.listeners) {
        if (h.attached) {
          h.dispatcher.offer(ev);
        }
      }
    }
    if (!fromDisk && disk != null) {
      disk.markDirty(e);
    }
  }

  /**
   * {@code sorted} (by id) with a delta's changes made in place, as a new array: still sorted by
   * id. Null if the delta does not fit the list (never expected: the caller then builds the list
   * whole).
   */
  private static Instance[] sortedAfter(List<Instance> sorted, List<Instance> added, List<Instance> changed,
      List<Instance> removed) {
    ArrayList<Instance> l = new ArrayList<>(sorted);
    for (Instance i : removed) {
      int at = indexOf(l, i.id());
      if (at < 0) {
        return null;
      }
      l.remove(at);
    }
    for (Instance i : changed) {
      int at = indexOf(l, i.id());
      if (at < 0) {
        return null;
      }
      l.set(at, i);
    }
    for (Instance i : added) {
      int at = indexOf(l, i.id());
      if (at >= 0) {
        return null;
      }
      l.add(-at - 1, i);
    }
    return l.toArray(new Instance[0]);
  }

  /** Binary search by id: the index, or -(insertion point) - 1. */
  private static int indexOf(List<Instance> sorted, String id) {
    int lo = 0;
    int hi = sorted.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = sorted.get(mid).id().compareTo(id);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  /** The entry's new state; writing {@code snapshot} last is what publishes it to readers. */
  private static void install(ServiceEntry e, Map<String, Instance> next, long revision, ServiceInfo info,
      boolean fromDisk, ServiceSnapshot snapshot) {
    e.byId = next;
    e.revision = revision;
    e.revisionTrusted = !fromDisk;
    e.resyncPending = false;
    e.info = info;
    e.snapshotFromDisk = fromDisk;
    e.snapshot = snapshot;  // the publication
    e.ready.complete(null);
  }

  private static void sortById(List<Instance> l) {
    if (l.size() > 1) {
      l.sort((a, b) -> a.id().compareTo(b.id()));
    }
  }

  private void forEachActive(java.util.function.Consumer<ServiceEntry> action) {
    forEachEntry(e -> {
      if (e.active) {
        action.accept(e);
      }
    });
  }

  private void forEachEntry(java.util.function.Consumer<ServiceEntry> action) {
    for (Map<String, ServiceEntry> m : byNamespace.values()) {
      for (ServiceEntry e : m.values()) {
        action.accept(e);
      }
    }
  }
}
