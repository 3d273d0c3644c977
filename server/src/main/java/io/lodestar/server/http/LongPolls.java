package io.lodestar.server.http;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/**
 * Long-poll waiters per key (a service, a config), woken by the key's next change. A waiter
 * re-checks the revision after registering, so a change that lands in between is never missed.
 */
public final class LongPolls<K> {
  private final Map<K, List<CompletableFuture<Void>>> waiting = new ConcurrentHashMap<>();
  private final Executor notifier;

  public LongPolls(Executor notifier) {
    this.notifier = notifier;
  }

  /** A future completed at the key's next change. */
  public CompletableFuture<Void> next(K key) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    waiting.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(f);
    f.whenComplete((v, e) -> {
      List<CompletableFuture<Void>> l = waiting.get(key);
      if (l != null) {
        l.remove(f);
      }
    });
    return f;
  }

  /** Called on the applier thread: responses are written off it, on the notifier. */
  public void wake(K key) {
    List<CompletableFuture<Void>> l = waiting.remove(key);
    if (l != null && !l.isEmpty()) {
      notifier.execute(() -> l.forEach(f -> f.complete(null)));
    }
  }
}
