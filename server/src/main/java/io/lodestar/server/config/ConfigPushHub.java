package io.lodestar.server.config;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigUpdate;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigListener;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Pushes config versions to subscribed SDK streams.
 *
 * <p>One thread owns every subscription, and subscribing and publishing both run on it, so a
 * stream sees a config's versions in order and never one lower than it was sent. Each subscriber
 * gets the version meant for it: a gray candidate when it matches the selector, else the release.
 * Updates carry whole content, so a stream that cannot take more (slow reader) is marked dirty
 * rather than queued to, and gets the latest version once it drains: bursts coalesce and the
 * server never buffers without bound. Secret content is decrypted here, once per version pushed.
 */
public final class ConfigPushHub implements ConfigListener, AutoCloseable {
  /** A subscriber's side of a stream. */
  public interface Subscriber {
    String clientId();

    String address();

    Map<String, String> labels();

    boolean isReady();

    void send(ServerMessage message);
  }

  private static final class Sub {
    long sentVersion;
    boolean dirty;
  }

  private final ConfigStore store;
  private final SecretBox secrets;
  private final ConfigClients clients;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lodestar-config-push");
    t.setDaemon(true);
    return t;
  });
  // push thread only
  private final Map<ConfigKey, Map<Subscriber, Sub>> topics = new HashMap<>();
  private final Map<Subscriber, Set<ConfigKey>> bySubscriber = new HashMap<>();
  private final Counter pushes;

  public ConfigPushHub(ConfigStore store, SecretBox secrets, ConfigClients clients, MeterRegistry meters) {
    this.store = store;
    this.secrets = secrets;
    this.clients = clients;
    this.pushes = Counter.builder("lodestar.config.pushes").description("config versions sent to SDK streams")
        .register(meters);
  }

  /** Follows a config; the subscriber gets its version now unless it already holds it. */
  public void subscribe(Subscriber s, ConfigKey key, long knownVersion) {
    thread.execute(() -> {
      Sub sub = topics.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(s, x -> new Sub());
      bySubscriber.computeIfAbsent(s, x -> new HashSet<>()).add(key);
      sub.sentVersion = knownVersion;
      sub.dirty = false;
      send(s, key, sub, updateFor(store.viewOrTombstone(key), key, s, new HashMap<>(), knownVersion));
    });
  }

  public void unsubscribe(Subscriber s, ConfigKey key) {
    thread.execute(() -> {
      drop(s, key);
      Set<ConfigKey> keys = bySubscriber.get(s);
      if (keys != null) {
        keys.remove(key);
      }
    });
  }

  /** The stream ended: forget all its subscriptions. */
  public void remove(Subscriber s) {
    thread.execute(() -> {
      Set<ConfigKey> keys = bySubscriber.remove(s);
      if (keys != null) {
        keys.forEach(k -> drop(s, k));
      }
    });
  }

  /** The stream can take more: send the latest version of every config skipped meanwhile. */
  public void onReady(Subscriber s) {
    thread.execute(() -> {
      Set<ConfigKey> keys = bySubscriber.get(s);
      if (keys == null) {
        return;
      }
      for (ConfigKey k : keys) {
        Sub sub = topics.get(k).get(s);
        if (sub.dirty && s.isReady()) {
          sub.dirty = false;
          ServerMessage m = updateFor(store.viewOrTombstone(k), k, s, new HashMap<>(), sub.sentVersion);
          if (m.getConfigUpdate().getVersion() > sub.sentVersion) {
            send(s, k, sub, m);
          }
        }
      }
    });
  }

  @Override
  public void onConfigChanged(ConfigView view) {
    thread.execute(() -> publish(view));
  }

  private void publish(ConfigView view) {
    Map<Subscriber, Sub> subs = topics.get(view.key());
    if (subs == null) {
      return;
    }
    // At most two: the release and the candidate. Shared messages memoize their serialized size.
    Map<Long, ServerMessage> built = new HashMap<>();
    for (Map.Entry<Subscriber, Sub> e : subs.entrySet()) {
      Subscriber s = e.getKey();
      Sub sub = e.getValue();
      if (sub.dirty) {
        continue;  // onReady sends the latest
      }
      if (!s.isReady()) {
        sub.dirty = true;
        continue;
      }
      ServerMessage m = updateFor(view, view.key(), s, built, sub.sentVersion);
      if (m.getConfigUpdate().getVersion() > sub.sentVersion) {
        send(s, view.key(), sub, m);
      }
    }
  }

  private void send(Subscriber s, ConfigKey key, Sub sub, ServerMessage m) {
    ConfigUpdate u = m.getConfigUpdate();
    s.send(m);
    sub.sentVersion = Math.max(sub.sentVersion, u.getVersion());
    pushes.increment();
    if (u.getDeleted()) {
      clients.forget(key, s.clientId());
    } else {
      clients.record(key, new ConfigClients.Holder(s.clientId(), s.address(), sub.sentVersion, u.getGray(), "stream",
          System.currentTimeMillis()));
    }
  }

  private void drop(Subscriber s, ConfigKey key) {
    Map<Subscriber, Sub> subs = topics.get(key);
    if (subs != null && subs.remove(s) != null) {
      clients.forget(key, s.clientId());
      if (subs.isEmpty()) {
        topics.remove(key);
      }
    }
  }

  /**
   * The update for one subscriber. When it already holds that version, the update carries no
   * content: it only confirms the subscription.
   */
  private ServerMessage updateFor(ConfigView view, ConfigKey key, Subscriber s, Map<Long, ServerMessage> built,
      long held) {
    if (view == null || view.deleted()) {
      return wrap(ConfigUpdate.newBuilder().setNamespace(key.namespace()).setGroup(key.group()).setName(key.name())
          .setDeleted(true).setVersion(view == null ? 0 : view.version()));
    }
    ConfigVersion v = view.versionFor(s.clientId(), s.address(), s.labels());
    if (v.getVersion() <= held) {
      return wrap(ConfigUpdate.newBuilder().setNamespace(key.namespace()).setGroup(key.group()).setName(key.name())
          .setVersion(v.getVersion()).setFormat(v.getFormat()).setHash(v.getHash())
          .setGray(view.candidate() == v).setUpdatedAtMs(v.getCreatedAtMs()));
    }
    return built.computeIfAbsent(v.getVersion(), n -> wrap(ConfigUpdate.newBuilder().setNamespace(key.namespace())
        .setGroup(key.group()).setName(key.name()).setVersion(n).setFormat(v.getFormat()).setHash(v.getHash())
        .setGray(view.candidate() == v).setUpdatedAtMs(v.getCreatedAtMs())
        .setContent(ByteString.copyFrom(secrets.plaintext(key, view.secret(), v)))));
  }

  private static ServerMessage wrap(ConfigUpdate.Builder u) {
    return ServerMessage.newBuilder().setConfigUpdate(u).build();
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
