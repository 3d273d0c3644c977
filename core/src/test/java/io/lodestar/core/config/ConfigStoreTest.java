package io.lodestar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.GraySelector;
import io.lodestar.api.v1.state.AbortConfigGray;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteConfig;
import io.lodestar.api.v1.state.PromoteConfigGray;
import io.lodestar.api.v1.state.PublishConfig;
import io.lodestar.api.v1.state.RollbackConfig;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigStoreTest {
  static final ConfigKey KEY = new ConfigKey("default", "app", "db.properties");
  final StateMachine sm = new StateMachine();
  final ConfigStore store = sm.configs();
  long time = 1000;

  ConfigVersion publish(String content) {
    return publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8(content)));
  }

  ConfigVersion publish(PublishConfig.Builder p) {
    p.setNamespace(KEY.namespace()).setGroup(KEY.group()).setName(KEY.name()).setHash("h" + p.getContent().hashCode())
        .setSize(p.getContent().size());
    return run(Command.newBuilder().setPublishConfig(p));
  }

  ConfigVersion run(Command.Builder c) {
    ConfigVersion v = sm.apply(c.setTimeMs(time++).build()).getConfigVersion();
    sm.flush();
    return v;
  }

  String released() {
    return store.view(KEY).released().getContent().toStringUtf8();
  }

  @Test
  void versionsGrowAndHistoryIsCapped() {
    assertThat(publish("a=1").getVersion()).isEqualTo(1);
    assertThat(publish("a=2").getVersion()).isEqualTo(2);
    publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("a=3")).setHistoryLimit(2));
    ConfigView v = store.view(KEY);
    assertThat(v.version()).isEqualTo(3);
    assertThat(v.history()).extracting(ConfigVersion::getVersion).containsExactly(2L, 3L);
    assertThat(released()).isEqualTo("a=3");
  }

  @Test
  void compareAndSetRefusesAStaleVersionAndChangesNothing() {
    publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("x")).setIfVersion(0));
    assertThatThrownBy(() -> publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("y"))
        .setIfVersion(0))).isInstanceOfSatisfying(LodestarException.class,
            e -> assertThat(e.code()).isEqualTo(LodestarException.Code.CONFLICT));
    publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("y")).setIfVersion(1));
    assertThat(store.view(KEY).version()).isEqualTo(2);
    assertThat(released()).isEqualTo("y");
  }

  @Test
  void deleteLeavesATombstoneSoVersionsNeverGoBack() {
    publish("1");
    publish("2");
    assertThat(run(Command.newBuilder().setDeleteConfig(DeleteConfig.newBuilder().setNamespace("default")
        .setGroup("app").setName("db.properties"))).getVersion()).isEqualTo(3);
    assertThat(store.view(KEY)).isNull();
    assertThat(store.views("default", null)).isEmpty();
    assertThat(publish("again").getVersion()).isEqualTo(4);
    assertThat(store.view(KEY).history()).hasSize(1);
  }

  @Test
  void rollbackRepublishesOldContentAsANewVersion() {
    publish("good");
    publish("bad");
    ConfigVersion v = run(Command.newBuilder().setRollbackConfig(RollbackConfig.newBuilder().setNamespace("default")
        .setGroup("app").setName("db.properties").setToVersion(1)));
    assertThat(v.getVersion()).isEqualTo(3);
    assertThat(v.getRollbackOf()).isEqualTo(1);
    assertThat(released()).isEqualTo("good");
    assertThatThrownBy(() -> run(Command.newBuilder().setRollbackConfig(RollbackConfig.newBuilder()
        .setNamespace("default").setGroup("app").setName("db.properties").setToVersion(9))))
        .hasMessageContaining("not kept");
  }

  @Test
  void grayCandidateGoesToMatchingClientsThenPromoteOrAbort() {
    publish("v1");
    publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("v2"))
        .setGray(GraySelector.newBuilder().putLabels("zone", "sh").addAddresses("10.0.0.9")));
    ConfigView v = store.view(KEY);
    assertThat(v.versionFor("c1", "10.0.0.1", Map.of("zone", "sh")).getVersion()).isEqualTo(2);
    assertThat(v.versionFor("c2", "10.0.0.9", Map.of()).getVersion()).isEqualTo(2);
    assertThat(v.versionFor("c3", "10.0.0.1", Map.of("zone", "bj")).getVersion()).isEqualTo(1);
    assertThatThrownBy(() -> publish("v3")).hasMessageContaining("gray release");

    run(Command.newBuilder().setPromoteConfigGray(PromoteConfigGray.newBuilder().setNamespace("default")
        .setGroup("app").setName("db.properties")));
    assertThat(store.view(KEY).versionFor("c3", "", Map.of()).getVersion()).isEqualTo(2);
    assertThat(store.view(KEY).grayActive()).isFalse();

    publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("v3"))
        .setGray(GraySelector.newBuilder().setPercent(100)));
    ConfigVersion aborted = run(Command.newBuilder().setAbortConfigGray(AbortConfigGray.newBuilder()
        .setNamespace("default").setGroup("app").setName("db.properties")));
    // Everyone returns to v2's content, at a version above the candidate's.
    assertThat(aborted.getVersion()).isEqualTo(4);
    assertThat(store.view(KEY).versionFor("any", "", Map.of()).getContent().toStringUtf8()).isEqualTo("v2");
  }

  @Test
  void percentageSelectionIsAStableHashOfTheClientId() {
    GraySelector half = GraySelector.newBuilder().setPercent(50).build();
    int chosen = 0;
    for (int i = 0; i < 1000; i++) {
      String id = "client-" + i;
      boolean m = GrayRule.matches(half, id, null, Map.of());
      assertThat(GrayRule.matches(half, id, null, Map.of())).isEqualTo(m);
      // Raising the percentage keeps everyone already chosen.
      if (m) {
        chosen++;
        assertThat(GrayRule.matches(GraySelector.newBuilder().setPercent(60).build(), id, null, Map.of())).isTrue();
      }
    }
    assertThat(chosen).isBetween(400, 600);
    assertThat(GrayRule.bucket("client-1")).isEqualTo(GrayRule.bucket("client-1"));
  }

  @Test
  void snapshotRestoresTheSameState() {
    publish("1");
    publish(PublishConfig.newBuilder().setContent(ByteString.copyFromUtf8("2"))
        .setGray(GraySelector.newBuilder().setPercent(10)));
    StateMachine copy = new StateMachine();
    List<ConfigView> heard = new ArrayList<>();
    copy.configs().addListener(heard::add);
    copy.restore(sm.snapshot(7));
    assertThat(copy.snapshot(7)).isEqualTo(sm.snapshot(7));
    assertThat(heard).hasSize(1);
    assertThat(copy.configs().view(KEY).candidate().getVersion()).isEqualTo(2);
  }

  @Test
  void unknownNamespaceIsNotFoundAndANamespaceWithConfigsCannotBeDeleted() {
    assertThatThrownBy(() -> sm.apply(Command.newBuilder().setPublishConfig(PublishConfig.newBuilder()
        .setNamespace("nope").setGroup("g").setName("n").setHash("h")).build()))
        .isInstanceOfSatisfying(LodestarException.class,
            e -> assertThat(e.code()).isEqualTo(LodestarException.Code.NOT_FOUND));
    sm.apply(Command.newBuilder().setCreateNamespace(io.lodestar.api.v1.state.CreateNamespace.newBuilder()
        .setName("prod")).build());
    sm.apply(Command.newBuilder().setPublishConfig(PublishConfig.newBuilder()
        .setNamespace("prod").setGroup("g").setName("n").setHash("h")).build());
    assertThatThrownBy(() -> sm.apply(Command.newBuilder().setDeleteNamespace(
        io.lodestar.api.v1.state.DeleteNamespace.newBuilder().setName("prod")).build()))
        .hasMessageContaining("configs");
  }
}
