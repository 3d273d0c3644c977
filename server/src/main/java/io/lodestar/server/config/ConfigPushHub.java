package io.lodestar.server.config;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigUpdate;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigListener;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.server.push.FanOut;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;

/**
 * Pushes config versions to subscribed SDK streams, on the {@link FanOut} core (thread
 * {@code lodestar-config-push}), so a stream sees a config's versions in order and never one
 * lower than it was sent. Each subscriber gets the version meant for it: a gray candidate when it
 * matches the selector, else the release. Updates carry whole content, so a slow stream simply
 * gets the latest version once it drains. Secret content is decrypted here, once per version pushed.
 */
public final class ConfigPushHub implements ConfigListener, AutoCloseable {
  /** A subscriber's side of a stream, with what gray selectors match on. */
  public interface Subscriber extends FanOut.Target {
    String clientId();

    String address();

    Map<String, String> labels();

    /** Whether this subscriber may read secret configs of the namespace in clear (its token's secrets:NS). */
    default boolean mayReadSecrets(String namespace) {
      return true;
    }
  }

  private final ConfigStore store;
  private final SecretBox secrets;
  private final ConfigClients clients;
  private final FanOut<ConfigKey, ConfigView, Subscriber> fanOut;
  private final Counter pushes;

  public ConfigPushHub(ConfigStore store, SecretBox secrets, ConfigClients clients, MeterRegistry meters) {
    this.store = store;
    this.secrets = secrets;
    this.clients = clients;
    this.pushes = Counter.builder("lodestar.config.pushes").description("config versions sent to SDK streams")
        .register(meters);
    this.fanOut = new FanOut<>("lodestar-config-push", new Versions());
    meters.gauge("lodestar.config.push.subscriptions", fanOut, FanOut::subscriptionCount);
  }

  /** Follows a config; the subscriber gets its version now unless it already holds it. */
  public void subscribe(Subscriber s, ConfigKey key, long knownVersion) {
    fanOut.subscribe(s, key, knownVersion);
  }

  public void unsubscribe(Subscriber s, ConfigKey key) {
    fanOut.unsubscribe(s, key);
  }

  /** The stream ended: forget all its subscriptions. */
  public void remove(Subscriber s) {
    fanOut.remove(s);
  }

  /** The stream can take more: send the latest version of every config skipped meanwhile. */
  public void onReady(Subscriber s) {
    fanOut.onReady(s);
  }

  @Override
  public void onConfigChanged(ConfigView view) {
    fanOut.publish(view);
  }

  /** The fan-out core (tests drive its sweep and wait for it). */
  FanOut<ConfigKey, ConfigView, Subscriber> fanOut() {
    return fanOut;
  }

  /** Config views as a fan-out payload: positions are versions. */
  private final class Versions implements FanOut.Payload<ConfigKey, ConfigView, Subscriber> {
    @Override
    public ConfigKey keyOf(ConfigView view) {
      return view.key();
    }

    @Override
    public ConfigView merge(ConfigView earlier, ConfigView later) {
      return later; // updates carry whole content: the later view is all a subscriber needs
    }

    @Override
    public long subscribe(Subscriber s, ConfigKey key, long known) {
      // Always answered, even with nothing new: a confirmation without content.
      return send(s, key, known, updateFor(store.viewOrTombstone(key), key, s, new HashMap<>(), known));
    }

    @Override
    public long catchUp(Subscriber s, ConfigKey key, long sent) {
      ServerMessage m = updateFor(store.viewOrTombstone(key), key, s, new HashMap<>(), sent);
      return m.getConfigUpdate().getVersion() > sent ? send(s, key, sent, m) : sent;
    }

    @Override
    public FanOut.Delivery<Subscriber> prepare(ConfigView view) {
      // At most two: the release and the candidate. Shared messages memoize their serialized size.
      Map<Long, ServerMessage> built = new HashMap<>();
      return (s, sent) -> {
        ServerMessage m = updateFor(view, view.key(), s, built, sent);
        return m.getConfigUpdate().getVersion() > sent ? send(s, view.key(), sent, m) : sent;
      };
    }

    @Override
    public void dropped(Subscriber s, ConfigKey key) {
      clients.forget(key, s.clientId());
    }
  }

  private long send(Subscriber s, ConfigKey key, long sent, ServerMessage m) {
    ConfigUpdate u = m.getConfigUpdate();
    s.send(m);
    long now = Math.max(sent, u.getVersion());
    pushes.increment();
    if (u.getDeleted()) {
      clients.forget(key, s.clientId());
    } else {
      clients.record(key, new ConfigClients.Holder(s.clientId(), s.address(), now, u.getGray(), "stream",
          System.currentTimeMillis()));
    }
    return now;
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
    // a secret goes in clear only to tokens with secrets:NS; the others get the listings' mask
    if (view.secret() && !s.mayReadSecrets(key.namespace())) {
      return built.computeIfAbsent(-v.getVersion(), n -> wrap(ConfigUpdate.newBuilder().setNamespace(key.namespace())
          .setGroup(key.group()).setName(key.name()).setVersion(v.getVersion()).setFormat(v.getFormat())
          .setHash(v.getHash()).setGray(view.candidate() == v).setUpdatedAtMs(v.getCreatedAtMs())
          .setContent(ByteString.copyFromUtf8(ConfigJson.MASK))));
    }
    ServerMessage ready = built.get(v.getVersion());
    if (ready != null) {
      return ready;  // decrypted once per version, shared by every subscriber
    }
    byte[] content;
    try {
      content = secrets.plaintext(key, view.secret(), v);
    } catch (io.lodestar.core.LodestarException e) {
      // a secret this node cannot decrypt (no key, or not the cluster's): say so once, push nothing new
      String what = key + "@" + v.getVersion();
      if (!what.equals(lastUndecryptable)) {
        lastUndecryptable = what;
        log.warn("Cannot push {}: {}", what, e.getMessage());
      }
      return wrap(ConfigUpdate.newBuilder().setNamespace(key.namespace()).setGroup(key.group()).setName(key.name())
          .setVersion(held));
    }
    return built.computeIfAbsent(v.getVersion(), n -> wrap(ConfigUpdate.newBuilder().setNamespace(key.namespace())
        .setGroup(key.group()).setName(key.name()).setVersion(n).setFormat(v.getFormat()).setHash(v.getHash())
        .setGray(view.candidate() == v).setUpdatedAtMs(v.getCreatedAtMs())
        .setContent(ByteString.copyFrom(content))));
  }

  /** The last secret version a push could not decrypt (push thread only): one WARN per version, not per client. */
  private String lastUndecryptable;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ConfigPushHub.class);

  private static ServerMessage wrap(ConfigUpdate.Builder u) {
    return ServerMessage.newBuilder().setConfigUpdate(u).build();
  }

  @Override
  public void close() {
    fanOut.close();
  }
}
