package io.lodestar.server.config;

import io.lodestar.core.config.ConfigKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which client holds which version of each config: stream subscribers as the server pushes to
 * them, and REST readers that name themselves with {@code clientId}. REST readers hold no
 * connection, so they are forgotten once they stop asking for {@link #REST_TTL_MS}.
 */
public final class ConfigClients {
  static final long REST_TTL_MS = 10 * 60_000;
  /** REST readers tracked per config at most, so that clients inventing ids cannot grow memory without bound. */
  static final int MAX_REST_READERS = 10_000;

  /** One client's copy. {@code via} is {@code stream} or {@code rest}. */
  public record Holder(String clientId, String address, long version, boolean gray, String via, long atMs) {}

  private final Map<ConfigKey, Map<String, Holder>> byConfig = new ConcurrentHashMap<>();

  void record(ConfigKey key, Holder h) {
    Map<String, Holder> m = byConfig.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
    if (h.via().equals("rest") && m.size() >= MAX_REST_READERS && !m.containsKey(h.clientId())) {
      m.values().removeIf(x -> x.via().equals("rest") && h.atMs() - x.atMs() > REST_TTL_MS);
      if (m.size() >= MAX_REST_READERS) {
        return;  // full of live readers: this one is served, just not listed
      }
    }
    m.put(h.clientId(), h);
  }

  void forget(ConfigKey key, String clientId) {
    Map<String, Holder> m = byConfig.get(key);
    if (m != null) {
      m.remove(clientId);
    }
  }

  /** Holders of a config sorted by client id; stale REST readers are dropped on the way. */
  public List<Holder> list(ConfigKey key, long nowMs) {
    Map<String, Holder> m = byConfig.get(key);
    if (m == null) {
      return List.of();
    }
    m.values().removeIf(h -> h.via().equals("rest") && nowMs - h.atMs() > REST_TTL_MS);
    List<Holder> out = new ArrayList<>(m.values());
    out.sort(Comparator.comparing(Holder::clientId));
    return out;
  }
}
