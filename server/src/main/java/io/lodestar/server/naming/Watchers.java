package io.lodestar.server.naming;

import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/** Long-poll waiters per service, woken by the next change to it. */
final class Watchers implements RegistryListener {
  private final Map<ServiceKey, List<CompletableFuture<Void>>> waiting = new ConcurrentHashMap<>();
  private final Executor notifier;

  Watchers(Executor notifier) {
    this.notifier = notifier;
  }

  /** A future completed at the service's next change. The caller re-checks the revision after. */
  CompletableFuture<Void> next(ServiceKey key) {
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

  @Override
  public void onServiceChanged(ServiceChange change) {
    List<CompletableFuture<Void>> l = waiting.remove(change.key());
    if (l != null && !l.isEmpty()) {
      // Responses are written off the applier thread.
      notifier.execute(() -> l.forEach(f -> f.complete(null)));
    }
  }
}
