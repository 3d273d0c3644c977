package io.lodestar.server.naming;

import io.lodestar.core.naming.ServiceKey;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/** Per-instance values grouped by service, so that dropping a whole service costs its own size. */
final class PerService<V> {
  private final Map<ServiceKey, Map<String, V>> byService = new ConcurrentHashMap<>();

  V get(InstanceKey k) {
    Map<String, V> m = byService.get(k.service());
    return m == null ? null : m.get(k.id());
  }

  void put(InstanceKey k, V v) {
    byService.computeIfAbsent(k.service(), s -> new ConcurrentHashMap<>()).put(k.id(), v);
  }

  void remove(InstanceKey k) {
    Map<String, V> m = byService.get(k.service());
    if (m != null) {
      m.remove(k.id());
    }
  }

  void removeService(ServiceKey s) {
    byService.remove(s);
  }

  void forEach(BiConsumer<InstanceKey, V> action) {
    byService.forEach((s, m) -> m.forEach((id, v) -> action.accept(new InstanceKey(s, id), v)));
  }

  void clear() {
    byService.clear();
  }

  boolean isEmpty() {
    for (Map<String, V> m : byService.values()) {
      if (!m.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  int size() {
    int n = 0;
    for (Map<String, V> m : byService.values()) {
      n += m.size();
    }
    return n;
  }
}
