package io.lodestar.server.naming;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Fans service changes out to subscribed streams.
 *
 * <p>One thread owns every subscription, and both subscribing and publishing run on it, so each
 * stream sees a service's updates in revision order with no gap: a subscriber at the change's base
 * revision gets the delta (built once, shared by all such subscribers); anyone else gets a
 * snapshot. A stream that is not ready to take more (slow reader) is marked dirty instead of being
 * queued to: when it drains it gets one snapshot of the latest state, so bursts coalesce and a slow
 * client never makes the server buffer without bound.
 */
public final class PushHub implements RegistryListener, AutoCloseable {
  /** A subscriber's side of a stream. */
  public interface Target {
    boolean isReady();

    void send(ServerMessage message);
  }

  private static final class Sub {
    long sentRevision;
    boolean dirty;
  }

  private final Registry registry;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lodestar-push");
    t.setDaemon(true);
    return t;
  });
  private int dirtyCount; // push thread only
  private final java.util.concurrent.ScheduledExecutorService sweeper =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lodestar-push-sweep");
        t.setDaemon(true);
        return t;
      });
  private final Object pendingLock = new Object();
  private Map<ServiceKey, ServiceChange> pending = new java.util.LinkedHashMap<>(); // guarded by pendingLock
  private boolean drainScheduled; // guarded by pendingLock
  // push thread only
  private final Map<ServiceKey, Map<Target, Sub>> topics = new HashMap<>();
  private final Map<Target, Set<ServiceKey>> byTarget = new HashMap<>();
  private final Counter pushes;
  private final Counter snapshots;
  // written on the push thread, read by the metrics scrape
  private final java.util.concurrent.atomic.AtomicInteger subscriptionCount =
      new java.util.concurrent.atomic.AtomicInteger();

  public PushHub(Registry registry, MeterRegistry meters) {
    this.registry = registry;
    this.pushes = Counter.builder("lodestar.push.updates").description("service updates sent to subscribers")
        .tag("kind", "delta").register(meters);
    this.snapshots = Counter.builder("lodestar.push.updates").description("service updates sent to subscribers")
        .tag("kind", "snapshot").register(meters);
    meters.gauge("lodestar.push.subscriptions", subscriptionCount);
    sweeper.scheduleWithFixedDelay(() -> thread.execute(this::sweepDirty), 200, 200, TimeUnit.MILLISECONDS);
  }

  public void subscribe(Target target, ServiceKey key, long knownRevision) {
    thread.execute(() -> {
      Sub sub = topics.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(target, t -> new Sub());
      if (byTarget.computeIfAbsent(target, t -> new HashSet<>()).add(key)) {
        subscriptionCount.incrementAndGet();
      }
      ServiceView view = currentView(key);
      if (knownRevision != 0 && knownRevision == view.revision()) {
        // Already current: an empty delta says so.
        sub.sentRevision = knownRevision;
        target.send(update(ServiceUpdate.newBuilder().setNamespace(key.namespace()).setService(key.service())
            .setRevision(knownRevision).setBaseRevision(knownRevision).build()));
        pushes.increment();
      } else {
        sendSnapshot(target, sub, view);
      }
    });
  }

  public void unsubscribe(Target target, ServiceKey key) {
    thread.execute(() -> {
      Map<Target, Sub> subs = topics.get(key);
      if (subs != null) {
        Sub gone = subs.remove(target);
        if (gone != null && gone.dirty) {
          dirtyCount--;
        }
        if (subs.isEmpty()) {
          topics.remove(key);
        }
      }
      Set<ServiceKey> keys = byTarget.get(target);
      if (keys != null && keys.remove(key)) {
        subscriptionCount.decrementAndGet();
      }
    });
  }

  /** The stream ended: forget all its subscriptions. */
  public void remove(Target target) {
    thread.execute(() -> {
      Set<ServiceKey> keys = byTarget.remove(target);
      if (keys != null) {
        subscriptionCount.addAndGet(-keys.size());
        for (ServiceKey k : keys) {
          Map<Target, Sub> subs = topics.get(k);
          if (subs != null) {
            Sub gone = subs.remove(target);
            if (gone != null && gone.dirty) {
              dirtyCount--;
            }
            if (subs.isEmpty()) {
              topics.remove(k);
            }
          }
        }
      }
    });
  }

  /** The stream can take more: catch up every subscription that was skipped while it could not. */
  public void onReady(Target target) {
    thread.execute(() -> {
      Set<ServiceKey> keys = byTarget.get(target);
      if (keys == null) {
        return;
      }
      for (ServiceKey k : keys) {
        Sub sub = topics.get(k).get(target);
        if (sub.dirty && target.isReady()) {
          sub.dirty = false;
          dirtyCount--;
          sendSnapshot(target, sub, currentView(k));
        }
      }
    });
  }

  /**
   * A safety net under onReady: every so often, catch up any subscription left dirty whose stream
   * can take more, so that a missed readiness signal can never leave a subscriber behind for good.
   */
  private void sweepDirty() {
    if (dirtyCount == 0) {
      return;
    }
    for (Map.Entry<ServiceKey, Map<Target, Sub>> topic : topics.entrySet()) {
      for (Map.Entry<Target, Sub> e : topic.getValue().entrySet()) {
        Sub sub = e.getValue();
        if (sub.dirty && e.getKey().isReady()) {
          sub.dirty = false;
          dirtyCount--;
          sendSnapshot(e.getKey(), sub, currentView(topic.getKey()));
        }
      }
    }
  }

  @Override
  public void onServiceChanged(ServiceChange change) {
    // Changes that arrive while the push thread is still fanning out earlier ones are merged per
    // service, so a burst costs one fan-out, not one per change, and latency stays bounded.
    synchronized (pendingLock) {
      pending.merge(change.key(), change, PushHub::merge);
      if (!drainScheduled) {
        drainScheduled = true;
        thread.execute(this::drain);
      }
    }
  }

  private void drain() {
    Map<ServiceKey, ServiceChange> batch;
    synchronized (pendingLock) {
      batch = pending;
      pending = new java.util.LinkedHashMap<>();
      drainScheduled = false;
    }
    batch.values().forEach(this::publish);
  }

  /** Two consecutive changes of one service as one: the later state, the union of what changed. */
  static ServiceChange merge(ServiceChange a, ServiceChange b) {
    boolean consecutive = a.previousRevision() != 0 && b.previousRevision() == a.view().revision();
    java.util.LinkedHashMap<String, Instance> upserts = new java.util.LinkedHashMap<>();
    a.upserts().forEach(i -> upserts.put(i.getId(), i));
    java.util.LinkedHashSet<String> removed = new java.util.LinkedHashSet<>(a.removedIds());
    for (String id : b.removedIds()) {
      upserts.remove(id);
      removed.add(id);
    }
    for (Instance i : b.upserts()) {
      upserts.put(i.getId(), i);
      removed.remove(i.getId());
    }
    return new ServiceChange(consecutive ? a.previousRevision() : 0, b.view(), List.copyOf(upserts.values()),
        List.copyOf(removed), a.infoChanged() || b.infoChanged(), b.deleted());
  }

  private void publish(ServiceChange change) {
    Map<Target, Sub> subs = topics.get(change.key());
    if (subs == null || subs.isEmpty()) {
      return;
    }
    ServiceView view = change.view();
    ServerMessage delta = null;
    ServerMessage snapshot = null;
    for (Map.Entry<Target, Sub> e : subs.entrySet()) {
      Target t = e.getKey();
      Sub sub = e.getValue();
      if (sub.sentRevision >= view.revision() && change.previousRevision() != 0) {
        continue; // the subscription's snapshot already had this change
      }
      if (!t.isReady()) {
        if (!sub.dirty) {
          sub.dirty = true;
          dirtyCount++;
        }
        continue;
      }
      if (sub.dirty) {
        // it skipped earlier changes and can take more now: catch it up with the latest state
        sub.dirty = false;
        dirtyCount--;
        sendSnapshot(t, sub, view);
        continue;
      }
      if (change.previousRevision() != 0 && sub.sentRevision == change.previousRevision()) {
        if (delta == null) {
          ServiceUpdate.Builder u = ServiceUpdate.newBuilder().setNamespace(view.key().namespace())
              .setService(view.key().service()).setRevision(view.revision())
              .setBaseRevision(change.previousRevision()).addAllInstances(change.upserts())
              .addAllRemovedIds(change.removedIds());
          if (change.infoChanged()) {
            u.setInfo(view.info());
          }
          delta = update(u.build());
        }
        t.send(delta);
        pushes.increment();
      } else {
        if (snapshot == null) {
          snapshot = update(snapshotOf(view));
        }
        t.send(snapshot);
        snapshots.increment();
      }
      sub.sentRevision = view.revision();
    }
  }

  private void sendSnapshot(Target target, Sub sub, ServiceView view) {
    target.send(update(snapshotOf(view)));
    sub.sentRevision = view.revision();
    snapshots.increment();
  }

  /**
   * A one-shot snapshot of a service's current state, for a fetch outside any subscription; any
   * thread (views are immutable and published whole).
   *
   * @throws io.lodestar.core.LodestarException when the namespace does not exist
   */
  public ServiceUpdate fetch(ServiceKey key) {
    registry.requireNamespace(key.namespace());
    return snapshotOf(currentView(key));
  }

  /** A service's current view; a service that does not exist is an empty one at revision 0. */
  private ServiceView currentView(ServiceKey key) {
    ServiceView v = registry.view(key.namespace(), key.service());
    return v != null ? v : new ServiceView(key, ServiceInfo.newBuilder().setNamespace(key.namespace())
        .setName(key.service()).build(), 0, List.<Instance>of());
  }

  private static ServiceUpdate snapshotOf(ServiceView view) {
    return ServiceUpdate.newBuilder().setNamespace(view.key().namespace()).setService(view.key().service())
        .setRevision(view.revision()).setSnapshot(true).addAllInstances(view.instances()).setInfo(view.info()).build();
  }

  private static ServerMessage update(ServiceUpdate u) {
    return ServerMessage.newBuilder().setUpdate(u).build();
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    thread.shutdown();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
