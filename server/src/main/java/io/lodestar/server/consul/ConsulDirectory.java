package io.lodestar.server.consul;

import io.lodestar.api.v1.Instance;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.core.naming.StoredInstance;
import io.lodestar.server.http.LongPolls;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * What the Consul API needs beyond the registry's views, kept current from its changes (applier
 * thread; read from any thread):
 *
 * <ul>
 *   <li>service ids and check ids → the instance: Consul's agent addresses an instance by its id
 *       alone ({@code deregister/<id>}, {@code check/pass/<checkId>}), not by service. Built on the
 *       agent API's first lookup, from the registry's views, and kept from then on: a node that
 *       never serves a Consul agent holds no per-instance entry for it (at a million instances,
 *       ~90 MB);
 *   <li>per namespace, the catalog's name → tags and the index at which it last changed: the
 *       index of {@code /v1/catalog/services}, which must move when a service appears, goes or
 *       changes its tags, and only then (an instance's health is not the catalog's business);
 *   <li>the long-poll keys blocking queries park on: a service, a namespace's catalog.
 * </ul>
 */
final class ConsulDirectory implements RegistryListener {
  record NsId(String namespace, String id) {}

  record InstanceRef(ServiceKey service, String id) {}

  private final Registry registry;
  private final Map<NsId, ServiceKey> serviceIds = new ConcurrentHashMap<>();
  // Consul's service ids are one namespace-wide; Lodestar's are per service, so two services may
  // hold one id (a REST or SDK registration beside a Consul one). A service that serviceIds does
  // not name for the id waits here (empty unless ids collide) and takes over when the named one
  // goes, so that an instance stays addressable by its id. Kept under idsLock, as byService is.
  private final Map<NsId, java.util.Set<ServiceKey>> sharedIds = new HashMap<>();
  private final Map<NsId, InstanceRef> checkIds = new ConcurrentHashMap<>();
  // per service: its instances' ids → their check ids (applier thread only), so that forgetting a
  // service or an instance costs what it holds, not a scan of every id
  private final Map<ServiceKey, Map<String, String>> byService = new HashMap<>();
  // guards the three id maps' upkeep against their first build (which reads the views on a
  // request thread while the applier may be publishing); after that, only the applier takes it
  private final Object idsLock = new Object();
  private volatile boolean idsKept;
  private final Map<ServiceKey, SortedSet<String>> catalog = new ConcurrentHashMap<>();
  private final Map<String, Long> catalogIndex = new ConcurrentHashMap<>();
  final LongPolls<ServiceKey> services;
  final LongPolls<String> catalogs;

  ConsulDirectory(Registry registry, Executor notifier) {
    this.registry = registry;
    this.services = new LongPolls<>(notifier);
    this.catalogs = new LongPolls<>(notifier);
  }

  @Override
  public void onServiceChanged(ServiceChange change) {
    ServiceKey key = change.key();
    ServiceView view = change.view();
    if (idsKept) {
      synchronized (idsLock) {
        keepIds(change);
      }
    }
    SortedSet<String> tags = null;
    if (!change.deleted() && !view.instances().isEmpty()) {
      SortedSet<String> untagged = stillUntagged(change);
      tags = untagged != null ? untagged : tagsOf(view);
    }
    SortedSet<String> before = tags == null ? catalog.remove(key) : catalog.put(key, tags);
    if (!java.util.Objects.equals(before, tags)) {
      catalogIndex.merge(key.namespace(), view.revision(), Math::max);
      catalogs.wake(key.namespace());
    }
    services.wake(key);
  }

  /**
   * The service's empty tag set when this change cannot have given it tags (it had none, and no
   * instance written by the change has any), else null. Why: every registration's flush lands
   * here, and SDK registrations carry no tags, so W1 walked a service's every instance per
   * registration batch to find none.
   */
  private SortedSet<String> stillUntagged(ServiceChange change) {
    if (change.previousRevision() == 0) {
      return null;  // no base: the catalog entry may be from before a restore
    }
    SortedSet<String> known = catalog.get(change.key());
    if (known == null || !known.isEmpty()) {
      return null;
    }
    for (Instance i : change.upserts()) {
      if (i.getTagsCount() > 0) {
        return null;
      }
    }
    return known;
  }

  private static SortedSet<String> tagsOf(ServiceView view) {
    SortedSet<String> tags = new TreeSet<>();
    for (StoredInstance i : view.stored()) { // compact: the view's messages are left unrendered
      tags.addAll(i.tags());
    }
    return tags;
  }

  private void keepIds(ServiceChange change) {
    ServiceKey key = change.key();
    if (change.previousRevision() == 0 || change.deleted()) {
      // no usable base (a snapshot replaced the state) or gone: forget the service's ids, re-learn
      Map<String, String> known = byService.remove(key);
      if (known != null) {
        known.forEach((id, checkId) -> forget(key, id, checkId));
      }
      if (!change.deleted()) {
        change.view().forEachInstance(i -> index(key, i));
      }
    } else {
      Map<String, String> known = byService.get(key);
      for (String id : change.removedIds()) {
        String checkId = known == null ? null : known.remove(id);
        forget(key, id, checkId);
      }
      change.upserts().forEach(i -> index(key, i));
    }
  }

  /**
   * Builds the id maps from the current views, once. Under the lock, so the applier's upkeep
   * waits: a change whose view was published before the build is in the views read here (a view is
   * published before its listeners hear of it), and one heard of after is applied on top (indexing
   * the same upserts and removals again changes nothing).
   */
  private void keepIdsFromNow() {
    if (idsKept) {
      return;
    }
    synchronized (idsLock) {
      if (idsKept) {
        return;
      }
      idsKept = true;
      for (ServiceView v : registry.allViews()) {
        v.forEachInstance(i -> index(v.key(), i));
      }
    }
  }

  /** @param key the registry's key of the instance's service, shared rather than copied per instance */
  private void index(ServiceKey key, Instance i) {
    Map<String, String> known = byService.computeIfAbsent(key, k -> new HashMap<>());
    String previousCheckId = known.put(i.getId(), i.getCheckId());
    if (previousCheckId != null && !previousCheckId.isEmpty() && !previousCheckId.equals(i.getCheckId())) {
      checkIds.remove(new NsId(key.namespace(), previousCheckId));
    }
    NsId nsId = new NsId(key.namespace(), i.getId());
    ServiceKey before = serviceIds.put(nsId, key);
    if (before != null && !before.equals(key)) {
      sharedIds.computeIfAbsent(nsId, k -> new java.util.HashSet<>()).add(before);
    }
    if (!sharedIds.isEmpty()) {
      java.util.Set<ServiceKey> others = sharedIds.get(nsId);
      if (others != null && others.remove(key) && others.isEmpty()) {
        sharedIds.remove(nsId);
      }
    }
    if (!i.getCheckId().isEmpty()) {
      checkIds.put(new NsId(i.getNamespace(), i.getCheckId()), new InstanceRef(key, i.getId()));
    }
  }

  private void forget(ServiceKey key, String id, String checkId) {
    NsId nsId = new NsId(key.namespace(), id);
    java.util.Set<ServiceKey> others = sharedIds.isEmpty() ? null : sharedIds.get(nsId);
    if (others == null) {
      serviceIds.remove(nsId, key);
    } else if (!others.remove(key) && key.equals(serviceIds.get(nsId))) {
      // the named one goes: another service's instance with this id takes the name
      ServiceKey next = others.iterator().next();
      others.remove(next);
      serviceIds.put(nsId, next);
    }
    if (others != null && others.isEmpty()) {
      sharedIds.remove(nsId);
    }
    if (checkId != null && !checkId.isEmpty()) {
      checkIds.remove(new NsId(key.namespace(), checkId), new InstanceRef(key, id));
    }
  }

  /** The instance with this Consul service id, or null. */
  Instance byServiceId(String namespace, String id) {
    keepIdsFromNow();
    ServiceKey k = serviceIds.get(new NsId(namespace, id));
    return k == null ? null : find(k, id);
  }

  /** The instance whose check has this id (its own, or the default {@code service:<id>}), or null. */
  Instance byCheckId(String namespace, String checkId) {
    keepIdsFromNow();
    InstanceRef r = checkIds.get(new NsId(namespace, checkId));
    if (r != null) {
      return find(r.service(), r.id());
    }
    if (checkId.startsWith("service:")) {
      Instance i = byServiceId(namespace, checkId.substring("service:".length()));
      return i != null && i.getCheckId().isEmpty() ? i : null;
    }
    return null;
  }

  private Instance find(ServiceKey k, String id) {
    StoredInstance i = registry.stored(k.namespace(), k.service(), id);
    return i == null ? null : i.toInstance();
  }

  /** A namespace's catalog: service name → union of its instances' tags, for services with instances. */
  Map<String, SortedSet<String>> catalog(String namespace) {
    Map<String, SortedSet<String>> out = new TreeMap<>();
    catalog.forEach((k, tags) -> {
      if (k.namespace().equals(namespace)) {
        out.put(k.service(), tags);
      }
    });
    return out;
  }

  /** The index of a namespace's catalog: where its names or tags last changed; at least 1. */
  long catalogIndex(String namespace) {
    return Math.max(1, catalogIndex.getOrDefault(namespace, 1L));
  }

  /**
   * A service's index: its revision, which moves on each change to it and on nothing else. A
   * missing service answers 1 rather than the registry's revision, which moves on every write
   * anywhere and would wake its watchers for nothing.
   */
  long serviceIndex(ServiceKey key) {
    ServiceView v = registry.view(key.namespace(), key.service());
    return v == null ? 1 : Math.max(1, v.revision());
  }

  List<Instance> instances(ServiceKey key) {
    ServiceView v = registry.view(key.namespace(), key.service());
    return v == null ? List.of() : v.instances();
  }
}
