package io.lodestar.server.push;

import io.lodestar.api.v1.ServerMessage;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fan-out core under every push hub: who follows which key, and getting each change to them
 * in order without ever buffering for a slow one. What a change is and what a subscriber is sent
 * is the {@link Payload}'s business (naming: service deltas and snapshots; config: versions).
 *
 * <p>Concurrency: one thread owns every subscription; subscribing, publishing, readiness and
 * sweeps all run on it, so a subscriber sees a key's updates in order and a new subscriber's
 * first message and the changes after it leave no gap. Changes handed in while the thread is
 * busy are merged per key ({@link Payload#merge}), so a burst costs one fan-out.
 *
 * <p>Slow subscribers: a stream that is not ready to take more is marked dirty instead of being
 * queued to. When it drains it gets one catch-up message with the latest state: on its readiness
 * signal, on the next change of the key, or at the latest on the next sweep ({@link #SWEEP_MS}),
 * the safety net under a missed readiness signal. The sweep's timer runs only while a subscription
 * is marked dirty: a node whose streams keep up (nearly always) has no timer waking its fan-out
 * threads five times a second for nothing.
 *
 * <p>Unfollowed keys: a change of a key nobody follows is dropped where it is published, without a
 * hop to the fan-out thread (a registration burst into services nobody watches). Nothing is lost:
 * the change is visible in the state before it is published, and a subscription that the check
 * missed was added to {@link #followed} after the check, so its first message, read from the state
 * after that, has the change.
 *
 * @param <K> what is subscribed to
 * @param <C> a change of one key
 * @param <T> a subscriber
 */
public final class FanOut<K, C, T extends FanOut.Target> implements AutoCloseable {
  /** How often subscriptions left dirty are checked for a stream that can take more again. */
  public static final long SWEEP_MS = 200;

  /** A subscriber's side of a stream. */
  public interface Target {
    boolean isReady();

    void send(ServerMessage message);
  }

  /**
   * What a hub sends. Every method runs on the fan-out thread. A "position" is how far a
   * subscriber has been sent (a revision, a version); it only grows.
   */
  public interface Payload<K, C, T> {
    K keyOf(C change);

    /** Two changes of one key that queued up, as one. */
    C merge(C earlier, C later);

    /** Sends a new subscriber (which says it holds {@code known}) what it needs now; returns its position. */
    long subscribe(T target, K key, long known);

    /** Sends the latest state to a subscriber that skipped changes; returns its position. */
    long catchUp(T target, K key, long sent);

    /** Starts fanning out one change; the delivery builds shared messages once. */
    Delivery<T> prepare(C change);

    /** A subscription ended (unsubscribed or stream gone). */
    default void dropped(T target, K key) {}
  }

  /** One change on its way to the subscribers of its key. */
  public interface Delivery<T> {
    /** Whether a subscriber at {@code sent} lacks this change (false: skipped, not even marked dirty). */
    default boolean needs(long sent) {
      return true;
    }

    /** Sends the change to a ready, up-to-date-but-for-this subscriber; returns its new position. */
    long send(T target, long sent);
  }

  private static final class Sub {
    long sent;
    boolean dirty;
  }

  private final Payload<K, C, T> payload;
  private final ScheduledExecutorService thread;
  private final Object pendingLock = new Object();
  private Map<K, C> pending = new LinkedHashMap<>(); // guarded by pendingLock
  private boolean drainScheduled; // guarded by pendingLock
  // fan-out thread only
  private final Map<K, Map<T, Sub>> topics = new HashMap<>();
  private final Map<T, Set<K>> byTarget = new HashMap<>();
  // written on the fan-out thread only; read by onReady on the streams' event loops
  private volatile int dirtyCount;
  // the sweep's timer, armed while dirtyCount > 0 (fan-out thread only)
  private ScheduledFuture<?> sweeping;
  // written on the fan-out thread, read by metrics scrapes
  private final AtomicInteger subscriptions = new AtomicInteger();
  // the keys of topics: written on the fan-out thread, read by publish on any thread
  private final Set<K> followed = ConcurrentHashMap.newKeySet();

  /** @param threadName the fan-out thread, which also runs the sweep */
  public FanOut(String threadName, Payload<K, C, T> payload) {
    this.payload = payload;
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
      Thread th = new Thread(r, threadName);
      th.setDaemon(true);
      return th;
    });
    t.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    t.setRemoveOnCancelPolicy(true);
    this.thread = t;
  }

  /** Follows a key; the subscriber gets what it lacks at once (see {@link Payload#subscribe}). */
  public void subscribe(T target, K key, long known) {
    thread.execute(() -> {
      Map<T, Sub> subs = topics.get(key);
      if (subs == null) {
        subs = new HashMap<>();
        topics.put(key, subs);
        followed.add(key); // before payload.subscribe reads the state below
      }
      Sub sub = subs.computeIfAbsent(target, t -> new Sub());
      if (byTarget.computeIfAbsent(target, t -> new HashSet<>()).add(key)) {
        subscriptions.incrementAndGet();
      }
      if (sub.dirty) {
        sub.dirty = false;
        dirtyCount--;
      }
      sub.sent = payload.subscribe(target, key, known);
    });
  }

  public void unsubscribe(T target, K key) {
    thread.execute(() -> {
      Set<K> keys = byTarget.get(target);
      if (keys != null && keys.remove(key)) {
        subscriptions.decrementAndGet();
        if (keys.isEmpty()) {
          byTarget.remove(target);
        }
        drop(target, key);
      }
    });
  }

  /** The stream ended: forget all its subscriptions. */
  public void remove(T target) {
    thread.execute(() -> {
      Set<K> keys = byTarget.remove(target);
      if (keys != null) {
        subscriptions.addAndGet(-keys.size());
        keys.forEach(k -> drop(target, k));
      }
    });
  }

  private void drop(T target, K key) {
    Map<T, Sub> subs = topics.get(key);
    Sub gone = subs == null ? null : subs.remove(target);
    if (gone == null) {
      return;
    }
    if (gone.dirty) {
      dirtyCount--;
    }
    if (subs.isEmpty()) {
      topics.remove(key);
      followed.remove(key);
    }
    payload.dropped(target, key);
  }

  /**
   * The stream can take more: catch up every subscription it skipped while it could not. A stream
   * signals this after every message it sends (each answer on an SDK stream), so with nothing
   * marked dirty it costs one volatile read, not a hop to the fan-out thread. A subscription
   * marked dirty just after that read is not missed: {@link #fanOut} checks readiness again after
   * marking it.
   */
  public void onReady(T target) {
    if (dirtyCount == 0) {
      return;
    }
    thread.execute(() -> {
      Set<K> keys = byTarget.get(target);
      if (keys != null) {
        for (K k : keys) {
          catchUpIfReady(target, k, topics.get(k).get(target));
        }
      }
    });
  }

  /** Starts the sweep's timer if it is not running; fan-out thread only. */
  private void armSweep() {
    if (sweeping == null && !thread.isShutdown()) { // closing: no sweep after the last task
      sweeping = thread.scheduleWithFixedDelay(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
    }
  }

  /** A safety net under onReady: a missed readiness signal never leaves a subscriber behind for good. */
  private void sweep() {
    if (dirtyCount == 0) {
      if (sweeping != null) { // nothing left behind: the timer stops until a subscription is marked again
        sweeping.cancel(false);
        sweeping = null;
      }
      return;
    }
    for (Map.Entry<K, Map<T, Sub>> topic : topics.entrySet()) {
      for (Map.Entry<T, Sub> e : topic.getValue().entrySet()) {
        catchUpIfReady(e.getKey(), topic.getKey(), e.getValue());
      }
    }
  }

  private void catchUpIfReady(T target, K key, Sub sub) {
    if (sub.dirty && target.isReady()) {
      sub.dirty = false;
      dirtyCount--;
      sub.sent = payload.catchUp(target, key, sub.sent);
    }
  }

  /**
   * Hands a change over to the fan-out thread; any thread (the applier's). The change must be
   * visible to readers of the state before this call: a subscription that starts after the check
   * below reads it from there.
   */
  public void publish(C change) {
    K key = payload.keyOf(change);
    if (!followed.contains(key)) {
      return;
    }
    synchronized (pendingLock) {
      pending.merge(key, change, payload::merge);
      if (!drainScheduled) {
        drainScheduled = true;
        thread.execute(this::drain);
      }
    }
  }

  private void drain() {
    Map<K, C> batch;
    synchronized (pendingLock) {
      batch = pending;
      pending = new LinkedHashMap<>();
      drainScheduled = false;
    }
    batch.values().forEach(this::fanOut);
  }

  private void fanOut(C change) {
    Map<T, Sub> subs = topics.get(payload.keyOf(change));
    if (subs == null || subs.isEmpty()) {
      return;
    }
    Delivery<T> delivery = payload.prepare(change);
    for (Map.Entry<T, Sub> e : subs.entrySet()) {
      T target = e.getKey();
      Sub sub = e.getValue();
      if (!delivery.needs(sub.sent)) {
        continue;
      }
      if (!target.isReady()) {
        if (!sub.dirty) {
          sub.dirty = true;
          dirtyCount++;
          armSweep();
          // a readiness signal between the check above and the mark may have been skipped (see onReady)
          catchUpIfReady(target, payload.keyOf(change), sub);
        }
      } else if (sub.dirty) {
        // it skipped earlier changes and can take more now: the latest state, not this change
        catchUpIfReady(target, payload.keyOf(change), sub);
      } else {
        sub.sent = delivery.send(target, sub.sent);
      }
    }
  }

  /** Whether anyone follows {@code key} (as {@link #publish} sees it). */
  public boolean follows(K key) {
    return followed.contains(key);
  }

  /** Subscriptions held now (for a gauge). */
  public int subscriptionCount() {
    return subscriptions.get();
  }

  /** Runs the sweep now instead of on its timer (tests). */
  public void sweepNow() {
    thread.execute(this::sweep);
  }

  /** Waits until everything handed to the fan-out thread so far has run (tests). */
  public void awaitIdle() {
    try {
      thread.submit(() -> {}).get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    thread.shutdown();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
