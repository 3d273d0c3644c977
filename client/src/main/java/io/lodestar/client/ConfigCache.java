package io.lodestar.client;

import io.lodestar.api.v1.ConfigFormat;
import io.lodestar.api.v1.ConfigUpdate;
import io.lodestar.client.config.Config;
import io.lodestar.client.config.ConfigListener;
import io.lodestar.client.config.ConfigService;
import io.lodestar.client.internal.Logs;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The configs this client uses: their latest versions, their subscriptions on the stream, their
 * listeners and their failover files.
 *
 * <p>Concurrency: as in {@link ServiceCache}, the entry map is concurrent and only grows, and
 * everything else runs on the control thread owned by {@link Connection}: updates are applied in
 * stream order, each newer version published with one volatile write, then offered to every
 * listener whose last delivered version is older, through the listener's {@link SerialDispatcher}.
 * So a listener sees each version once, in order, never concurrently.
 *
 * <p>Versions only grow per config, so a version loaded from disk is a fine resubscription base:
 * after a restart with the server up, the server only confirms it and no listener fires twice.
 */
final class ConfigCache implements ConfigService {
  private static final System.Logger LOG = Logs.get(LodestarClient.class.getName());

  record Key(String namespace, String group, String name) {
    @Override
    public String toString() {
      return namespace + "/" + group + "/" + name;
    }
  }

  /** A listener with its own serial delivery. */
  static final class Handle {
    final ConfigListener listener;
    final SerialDispatcher<Config> dispatcher;
    long delivered;    // control thread: the last version offered to it
    boolean attached;  // control thread

    Handle(ConfigListener listener, SerialDispatcher<Config> dispatcher) {
      this.listener = listener;
      this.dispatcher = dispatcher;
    }
  }

  static final class Entry {
    final Key key;
    volatile Config config;  // null until known
    volatile CompletableFuture<Void> ready = new CompletableFuture<>();
    final CopyOnWriteArrayList<Handle> listeners = new CopyOnWriteArrayList<>();
    // control thread only
    boolean active;
    boolean diskLoadRequested;

    Entry(Key key) {
      this.key = key;
    }
  }

  private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();
  private final Connection connection;
  private final ConfigFiles files;  // null: no failover cache
  private final Executor listenerExecutor;
  private final Duration requestTimeout;

  private final String namespace;  // the client's default

  ConfigCache(Connection connection, ConfigFiles files, Executor listenerExecutor, Duration requestTimeout,
      String namespace) {
    this.namespace = namespace;
    this.connection = connection;
    this.files = files;
    this.listenerExecutor = listenerExecutor;
    this.requestTimeout = requestTimeout;
  }

  // ------------------------------------------------------------------ API (any thread)

  @Override
  public String namespace() {
    return namespace;
  }

  @Override
  public Config get(String namespace, String group, String name) {
    Entry e = entry(namespace, group, name);
    Config c = e.config;
    if (c != null) {
      return c;
    }
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    while (true) {
      c = e.config;
      if (c != null) {
        return c;
      }
      CompletableFuture<Void> ready = e.ready;
      connection.post(() -> ensureActive(e));
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new LodestarClientException(LodestarClientException.TIMEOUT, "no version of config " + e.key
            + " within " + requestTimeout.toMillis() + " ms (status " + connection.status() + ")", "");
      }
      try {
        ready.get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException timeout) {
        // loop: the deadline check throws
      } catch (ExecutionException ee) {
        Throwable t = ee.getCause();
        throw t instanceof LodestarClientException lce ? lce
            : new LodestarClientException(LodestarClientException.UNAVAILABLE, "config " + e.key + ": " + t, t);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new LodestarClientException(LodestarClientException.TIMEOUT, "interrupted waiting for " + e.key, ie);
      }
    }
  }

  @Override
  public void addListener(String namespace, String group, String name, ConfigListener listener) {
    Objects.requireNonNull(listener, "listener");
    Entry e = entry(namespace, group, name);
    Handle h = new Handle(listener, new SerialDispatcher<>(listenerExecutor, listener::onChange,
        "config " + e.key + " listener " + listener));
    e.listeners.add(h);
    connection.post(() -> attach(e, h));
  }

  @Override
  public void removeListener(String namespace, String group, String name, ConfigListener listener) {
    Entry e = entries.get(new Key(namespace, group, name));
    if (e == null) {
      return;
    }
    for (Handle h : e.listeners) {
      if (h.listener == listener && e.listeners.remove(h)) {
        h.dispatcher.cancel();
        return;
      }
    }
  }

  private Entry entry(String namespace, String group, String name) {
    Names.name("namespace", namespace);
    Names.name("group", group);
    Names.name("name", name);
    return entries.computeIfAbsent(new Key(namespace, group, name), Entry::new);
  }

  // ------------------------------------------------------------------ control thread

  private void attach(Entry e, Handle h) {
    if (h.attached || !e.listeners.contains(h)) {
      return;
    }
    h.attached = true;
    ensureActive(e);
    Config c = e.config;
    if (c != null) {
      offer(h, c);
    }
  }

  private void ensureActive(Entry e) {
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

  void onConnected() {
    entries.values().forEach(e -> {
      if (e.active) {
        subscribe(e);  // from the version held: the server sends only what is newer
      }
    });
  }

  void onTrouble() {
    entries.values().forEach(e -> {
      if (e.active && e.config == null) {
        loadFromDisk(e);
      }
    });
  }

  void onClosed() {
    LodestarClientException ex = Connection.closedException();
    entries.values().forEach(e -> e.ready.completeExceptionally(ex));
  }

  void onUpdate(ConfigUpdate u) {
    Entry e = entries.get(new Key(u.getNamespace(), u.getGroup(), u.getName()));
    if (e == null || !e.active) {
      return;
    }
    Config held = e.config;
    if (held != null && u.getVersion() < held.version()) {
      return;  // older than what we hold: never go back
    }
    if (held != null && u.getVersion() == held.version()) {
      if (held.fromCache()) {
        // The server confirms the version from disk: the same content, now current.
        publish(e, copy(held, false), false);
      }
      return;
    }
    publish(e, toConfig(u, false), true);
    if (files != null) {
      files.writeAsync(u);
    }
  }

  private void subscribe(Entry e) {
    Config held = e.config;
    connection.subscribeConfig(e.key.namespace(), e.key.group(), e.key.name(), held == null ? 0 : held.version());
  }

  private void loadFromDisk(Entry e) {
    if (files == null || e.diskLoadRequested) {
      return;
    }
    e.diskLoadRequested = true;
    files.loadAsync(e.key.namespace(), e.key.group(), e.key.name(),
        found -> connection.post(() -> applyFromDisk(e, found)));
  }

  private void applyFromDisk(Entry e, Optional<ConfigUpdate> found) {
    e.diskLoadRequested = false;
    if (!e.active || e.config != null || found.isEmpty()) {
      return;
    }
    LOG.log(Level.INFO, "Lodestar: serving config {0} version {1} from the failover cache", e.key,
        found.get().getVersion());
    publish(e, toConfig(found.get(), true), true);
  }

  private void publish(Entry e, Config c, boolean notify) {
    e.config = c;  // the publication
    e.ready.complete(null);
    if (notify) {
      for (Handle h : e.listeners) {
        if (h.attached) {
          offer(h, c);
        }
      }
    }
  }

  private static void offer(Handle h, Config c) {
    if (c.version() > h.delivered) {
      h.delivered = c.version();
      h.dispatcher.offer(c);
    }
  }

  private static Config toConfig(ConfigUpdate u, boolean fromCache) {
    return new Config(u.getNamespace(), u.getGroup(), u.getName(), u.getVersion(), format(u.getFormat()),
        u.getDeleted() ? "" : u.getContent().toStringUtf8(), u.getHash(), !u.getDeleted(), u.getGray(), fromCache,
        Instant.ofEpochMilli(u.getUpdatedAtMs()));
  }

  private static Config copy(Config c, boolean fromCache) {
    return new Config(c.namespace(), c.group(), c.name(), c.version(), c.format(), c.content(), c.hash(), c.exists(),
        c.gray(), fromCache, c.updatedAt());
  }

  private static String format(ConfigFormat f) {
    return switch (f) {
      case CONFIG_FORMAT_PROPERTIES -> "properties";
      case CONFIG_FORMAT_YAML -> "yaml";
      case CONFIG_FORMAT_JSON -> "json";
      default -> "text";
    };
  }
}
