package io.lodestar.server.config;

import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigListener;
import io.lodestar.core.config.ConfigView;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/** Long-poll waiters per config, woken by its next change. */
final class ConfigWatchers implements ConfigListener {
  private final Map<ConfigKey, List<CompletableFuture<Void>>> waiting = new ConcurrentHashMap<>();
  private final Executor notifier;

  ConfigWatchers(Executor notifier) {
    this.notifier = notifier;
  }

  /** A future completed at the config's next change. The caller re-checks the version after. */
  CompletableFuture<Void> next(ConfigKey key) {
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
  public void onConfigChanged(ConfigView view) {
    List<CompletableFuture<Void>> l = waiting.remove(view.key());
    if (l != null && !l.isEmpty()) {
      notifier.execute(() -> l.forEach(f -> f.complete(null)));  // responses are written off the applier
    }
  }
}
