package io.lodestar.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigUpdate;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.PublishConfig;
import io.lodestar.core.StateMachine;
import io.lodestar.core.config.ConfigKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config push hub against fake subscribers: slow, dirty, cancelled and reconnecting ones. */
class ConfigPushHubTest {
  static final ConfigKey KEY = new ConfigKey("default", "app", "db.properties");

  static final class FakeSubscriber implements ConfigPushHub.Subscriber {
    volatile boolean ready = true;
    private final String id;
    private final List<ConfigUpdate> got = new ArrayList<>();

    FakeSubscriber(String id) {
      this.id = id;
    }

    @Override
    public String clientId() {
      return id;
    }

    @Override
    public String address() {
      return "127.0.0.1";
    }

    @Override
    public Map<String, String> labels() {
      return Map.of();
    }

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public synchronized void send(ServerMessage message) {
      got.add(message.getConfigUpdate());
    }

    synchronized List<ConfigUpdate> got() {
      return List.copyOf(got);
    }

    synchronized ConfigUpdate last() {
      return got.isEmpty() ? null : got.get(got.size() - 1);
    }
  }

  final StateMachine sm = new StateMachine();
  final ConfigClients clients = new ConfigClients();
  ConfigPushHub hub;
  long time = 1;

  @BeforeEach
  void open(@TempDir Path dir) {
    hub = new ConfigPushHub(sm.configs(), SecretBox.open(dir), clients, new SimpleMeterRegistry());
    sm.configs().addListener(hub);
  }

  @AfterEach
  void close() {
    hub.close();
  }

  void publish(String content) {
    ByteString c = ByteString.copyFromUtf8(content);
    sm.apply(Command.newBuilder().setTimeMs(time++).setPublishConfig(PublishConfig.newBuilder()
        .setNamespace(KEY.namespace()).setGroup(KEY.group()).setName(KEY.name()).setContent(c)
        .setHash("h" + content.hashCode()).setSize(c.size())).build());
    sm.flush();
    idle();
  }

  void idle() {
    hub.fanOut().awaitIdle();
  }

  @Test
  void aListenerWhoseReadinessSignalIsLostStillGetsTheLatestVersion() {
    publish("a=1");
    FakeSubscriber s = new FakeSubscriber("c1");
    hub.subscribe(s, KEY, 0);
    idle();
    s.ready = false;
    publish("a=2");
    s.ready = true; // the stream drained, but its onReady never reached the hub
    assertThat(s.last().getVersion()).isEqualTo(1);

    // the sweep on its own timer catches it up, with no other event
    await().untilAsserted(() -> assertThat(s.last().getVersion()).isEqualTo(2));
    assertThat(s.last().getContent().toStringUtf8()).isEqualTo("a=2");
  }

  @Test
  void aSlowListenerGetsOnlyTheLatestVersionOnceItDrains() {
    FakeSubscriber slow = new FakeSubscriber("slow");
    FakeSubscriber fast = new FakeSubscriber("fast");
    hub.subscribe(slow, KEY, 0);
    hub.subscribe(fast, KEY, 0);
    idle();
    slow.ready = false;
    publish("a=1");
    publish("a=2");
    publish("a=3");
    assertThat(fast.got()).extracting(ConfigUpdate::getVersion).containsExactly(0L, 1L, 2L, 3L);
    assertThat(slow.got()).hasSize(1);

    slow.ready = true;
    hub.onReady(slow);
    idle();
    assertThat(slow.got()).extracting(ConfigUpdate::getVersion).containsExactly(0L, 3L);
    assertThat(slow.last().getContent().toStringUtf8()).isEqualTo("a=3");
    assertThat(clients.list(KEY, System.currentTimeMillis())).extracting(ConfigClients.Holder::version)
        .containsExactly(3L, 3L);
  }

  @Test
  void aReconnectingListenerThatHoldsTheVersionGetsAConfirmationWithoutContent() {
    publish("a=1");
    FakeSubscriber s = new FakeSubscriber("c1");
    hub.subscribe(s, KEY, 1);
    idle();
    assertThat(s.got()).singleElement().satisfies(u -> {
      assertThat(u.getVersion()).isEqualTo(1);
      assertThat(u.getContent().isEmpty()).isTrue();
    });
    publish("a=2");
    assertThat(s.last().getVersion()).isEqualTo(2);
    assertThat(s.last().getContent().toStringUtf8()).isEqualTo("a=2");
  }

  @Test
  void aCancelledListenerIsForgottenAndNoLongerListedAsAHolder() {
    publish("a=1");
    FakeSubscriber s = new FakeSubscriber("gone");
    hub.subscribe(s, KEY, 0);
    idle();
    assertThat(clients.list(KEY, System.currentTimeMillis())).extracting(ConfigClients.Holder::clientId)
        .containsExactly("gone");
    s.ready = false;
    publish("a=2");

    hub.remove(s);
    idle();
    s.ready = true;
    hub.fanOut().sweepNow();
    publish("a=3");
    assertThat(s.got()).extracting(ConfigUpdate::getVersion).containsExactly(1L);
    assertThat(clients.list(KEY, System.currentTimeMillis())).isEmpty();
    assertThat(hub.fanOut().subscriptionCount()).isZero();
  }
}
