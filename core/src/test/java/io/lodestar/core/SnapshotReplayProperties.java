package io.lodestar.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteConfig;
import io.lodestar.api.v1.state.DeleteRules;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.KvDelete;
import io.lodestar.api.v1.state.KvPut;
import io.lodestar.api.v1.state.PublishConfig;
import io.lodestar.api.v1.state.PutRules;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.SetHealth;
import io.lodestar.api.v1.state.StateSnapshot;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * What a Raft follower (and a restarted node) relies on, for every domain the state machine has:
 * restoring a snapshot taken after any prefix of the log, then applying the rest, gives the same
 * answers and the same state as applying the whole log (naming, config, governance, key/value). A
 * node that installed a snapshot must number later changes exactly as a node that replayed
 * everything.
 */
class SnapshotReplayProperties {

  @Property(tries = 300)
  void restoreThenApplyTheRestEqualsApplyEverything(
      @ForAll("commands") @Size(min = 1, max = 120) List<Command> commands,
      @ForAll @IntRange(min = 0, max = 120) int cut) {
    int at = Math.min(cut, commands.size());
    StateMachine all = new StateMachine();
    List<String> expected = applyAll(all, commands);

    StateMachine prefix = new StateMachine();
    applyAll(prefix, commands.subList(0, at));
    // the snapshot goes through its bytes, as it does through a file or a snapshot installation
    StateSnapshot snap;
    try {
      snap = StateSnapshot.parseFrom(prefix.snapshot(at).toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    StateMachine restored = new StateMachine();
    restored.restore(snap);
    List<String> rest = applyAll(restored, commands.subList(at, commands.size()));

    assertThat(rest).isEqualTo(expected.subList(at, expected.size()));
    assertThat(restored.snapshot(commands.size())).isEqualTo(all.snapshot(commands.size()));
  }

  /** Applies each command as the log does (one flush per batch of one); returns each answer as text. */
  private static List<String> applyAll(StateMachine sm, List<Command> commands) {
    List<String> answers = new ArrayList<>();
    for (Command c : commands) {
      try {
        answers.add(sm.apply(c).toString());
      } catch (LodestarException e) {
        answers.add(e.code() + " " + e.field() + " " + e.getMessage());
      }
      sm.flush();
    }
    return answers;
  }

  @Provide
  Arbitrary<List<Command>> commands() {
    // enough services and ids that an owner's instances spread over several services
    Arbitrary<String> svc = Arbitraries.of("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7");
    Arbitrary<String> id = Arbitraries.of("a", "b", "c", "d", "e", "f");
    Arbitrary<String> owner = Arbitraries.of("", "o1", "o1", "o2");
    Arbitrary<Command> register = Combinators.combine(svc, id, Arbitraries.integers().between(1, 4), owner)
        .as((s, i, p, o) -> cmd(p).setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance.newBuilder()
            .setNamespace("default").setService(s).setId(i).setHost("10.0.0." + p).setPort(80 + p)
            .setEphemeral(p != 4).setTtlSeconds(p == 4 ? 0 : 10).setOwner(o))).build());
    Arbitrary<Command> deregister = Combinators.combine(svc, id).as((s, i) -> cmd(5)
        .setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("default").setService(s).setId(i)).build());
    Arbitrary<Command> health = Combinators.combine(svc, id, Arbitraries.of(HealthStatus.HEALTHY,
        HealthStatus.UNHEALTHY), Arbitraries.of(true, false, false)).as((s, i, h, rm) -> cmd(6)
            .setSetHealth(SetHealth.newBuilder().addChanges(SetHealth.Change.newBuilder().setRef(InstanceRef
                .newBuilder().setNamespace("default").setService(s).setId(i)).setStatus(h).setRemove(rm))).build());
    Arbitrary<Command> dropOwned = Arbitraries.of("o1", "o2").map(o -> cmd(7)
        .setDeregisterOwned(DeregisterOwned.newBuilder().setOwner(o)).build());
    Arbitrary<Command> publish = Combinators.combine(Arbitraries.of("a", "b"), Arbitraries.integers().between(0, 3))
        .as((name, n) -> cmd(8).setPublishConfig(PublishConfig.newBuilder().setNamespace("default").setGroup("g")
            .setName(name).setContent(ByteString.copyFromUtf8("v" + n)).setHash("h" + n).setSize(2)
            .setIfVersion(n == 3 ? 1 : 0)).build());
    Arbitrary<Command> deleteConfig = Arbitraries.of("a", "b").map(name -> cmd(9)
        .setDeleteConfig(DeleteConfig.newBuilder().setNamespace("default").setGroup("g").setName(name)).build());
    // a service's rule, or (service empty) the namespace default that re-publishes every service
    Arbitrary<Command> putRules = Combinators.combine(Arbitraries.of("", "s0", "s1"),
        Arbitraries.of(LoadBalanceRule.Policy.ROUND_ROBIN, LoadBalanceRule.Policy.MAGLEV)).as((s, policy) -> cmd(10).setPutRules(PutRules.newBuilder()
            .setNamespace("default").setService(s).setRules(GovernanceRules.newBuilder()
                .setLoadbalance(LoadBalanceRule.newBuilder().setPolicy(policy)))).build());
    Arbitrary<Command> deleteRules = Arbitraries.of("", "s0", "s1").map(s -> cmd(11).setDeleteRules(
        DeleteRules.newBuilder().setNamespace("default").setService(s).setKind(io.lodestar.api.v1.RuleKind.LOADBALANCE)).build());
    // a Consul registration: tags, a check id, and a TTL check that starts critical
    Arbitrary<Command> consulRegister = Combinators.combine(svc, id).as((s, i) -> cmd(12).setRegisterInstance(
        RegisterInstance.newBuilder().setInitialHealth(HealthStatus.UNHEALTHY).setInstance(Instance.newBuilder()
            .setNamespace("default").setService(s).setId(i).setHost("10.0.1.1").setPort(8500).setEphemeral(true)
            .setTtlSeconds(5).addTags("t-" + i).setCheckId("check-" + i).setRemoveAfterSeconds(60))).build());
    // key/value writes: plain, compare-and-set (often stale), deletes of a key or a prefix
    Arbitrary<String> key = Arbitraries.of("a/x", "a/y", "a/z/1", "b", "b/c");
    Arbitrary<Command> kvPut = Combinators.combine(key, Arbitraries.integers().between(0, 5))
        .as((k, n) -> {
          KvPut.Builder p = KvPut.newBuilder().setNamespace("default").setKey(k)
              .setValue(ByteString.copyFromUtf8("v" + n)).setFlags(n);
          if (n >= 3) {
            p.setCas(n - 3);  // 0: only if absent; 1, 2: an index that may or may not be current
          }
          return cmd(13).setKvPut(p).build();
        });
    Arbitrary<Command> kvDelete = Combinators.combine(Arbitraries.of("a/", "a/x", "b", ""), Arbitraries.of(true, false))
        .as((k, recurse) -> cmd(14).setKvDelete(KvDelete.newBuilder().setNamespace("default").setKey(k)
            .setRecurse(recurse || k.isEmpty())).build());
    return Arbitraries.frequencyOf(Tuple.of(8, register), Tuple.of(2, deregister), Tuple.of(2, health),
        Tuple.of(2, dropOwned), Tuple.of(2, publish), Tuple.of(1, deleteConfig), Tuple.of(1, putRules),
        Tuple.of(1, deleteRules), Tuple.of(2, consulRegister), Tuple.of(3, kvPut), Tuple.of(2, kvDelete)).list();
  }

  private static Command.Builder cmd(long t) {
    return Command.newBuilder().setTimeMs(1_000 * t);
  }
}
