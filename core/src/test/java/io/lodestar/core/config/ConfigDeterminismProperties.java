package io.lodestar.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.GraySelector;
import io.lodestar.api.v1.state.AbortConfigGray;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteConfig;
import io.lodestar.api.v1.state.PromoteConfigGray;
import io.lodestar.api.v1.state.PublishConfig;
import io.lodestar.api.v1.state.RollbackConfig;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** Same config commands, same state; snapshots restore it; a config's version never goes back. */
class ConfigDeterminismProperties {

  @Property(tries = 200)
  void sameCommandsSameStateAndSnapshotsRestoreIt(@ForAll("commands") @Size(max = 60) List<Command> commands) {
    StateMachine a = run(commands);
    StateMachine b = run(commands);
    assertThat(a.snapshot(1)).isEqualTo(b.snapshot(1));
    StateMachine c = new StateMachine();
    c.restore(a.snapshot(1));
    assertThat(c.snapshot(1)).isEqualTo(a.snapshot(1));
  }

  @Property(tries = 200)
  void versionsSeenByListenersOnlyGrow(@ForAll("commands") @Size(max = 60) List<Command> commands) {
    StateMachine sm = new StateMachine();
    Map<ConfigKey, Long> last = new HashMap<>();
    sm.configs().addListener(v -> {
      Long before = last.put(v.key(), v.version());
      assertThat(v.version()).isGreaterThanOrEqualTo(before == null ? 0 : before);
      if (!v.deleted()) {
        assertThat(v.history()).contains(v.released());
        assertThat(v.history().size()).isLessThanOrEqualTo(Math.max(v.historyLimit(), 2));
      }
    });
    for (Command c : commands) {
      try {
        sm.apply(c);
      } catch (LodestarException ignored) {
        // refused commands change nothing
      }
      sm.flush();
    }
  }

  private static StateMachine run(List<Command> commands) {
    StateMachine sm = new StateMachine();
    for (Command c : commands) {
      try {
        sm.apply(c);
      } catch (LodestarException ignored) {
        // refused: deterministic too
      }
    }
    sm.flush();
    return sm;
  }

  @Provide
  Arbitrary<List<Command>> commands() {
    Arbitrary<String> name = Arbitraries.of("a", "b");
    Arbitrary<Command> publish = Arbitraries.integers().between(0, 9).flatMap(n -> name.flatMap(cfg ->
        Arbitraries.of(0, 1, 2, 3).map(kind -> {
          PublishConfig.Builder p = PublishConfig.newBuilder().setNamespace("default").setGroup("g").setName(cfg)
              .setContent(ByteString.copyFromUtf8("v" + n)).setHash("h" + n).setSize(2);
          if (kind == 1) {
            p.setGray(GraySelector.newBuilder().setPercent(10 * n + 1));
          } else if (kind == 2) {
            p.setHistoryLimit(n % 3 + 1);
          } else if (kind == 3) {
            p.setIfVersion(n % 4);
          }
          return cmd(n).setPublishConfig(p).build();
        })));
    Arbitrary<Command> other = Arbitraries.integers().between(0, 9).flatMap(n -> name.flatMap(cfg ->
        Arbitraries.of(0, 1, 2, 3).map(kind -> switch (kind) {
          case 0 -> cmd(n).setDeleteConfig(DeleteConfig.newBuilder().setNamespace("default").setGroup("g")
              .setName(cfg)).build();
          case 1 -> cmd(n).setRollbackConfig(RollbackConfig.newBuilder().setNamespace("default").setGroup("g")
              .setName(cfg).setToVersion(n + 1)).build();
          case 2 -> cmd(n).setPromoteConfigGray(PromoteConfigGray.newBuilder().setNamespace("default")
              .setGroup("g").setName(cfg)).build();
          default -> cmd(n).setAbortConfigGray(AbortConfigGray.newBuilder().setNamespace("default")
              .setGroup("g").setName(cfg)).build();
        })));
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, publish), net.jqwik.api.Tuple.of(2, other)).list();
  }

  private static Command.Builder cmd(int n) {
    return Command.newBuilder().setTimeMs(1_000 + n);
  }
}
