package io.lodestar.core.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateNamespace;
import io.lodestar.api.v1.state.DeleteNamespace;
import io.lodestar.api.v1.state.DeleteService;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.SetHealth;
import io.lodestar.core.LodestarException;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** What Raft relies on: the same commands give the same state, and a snapshot restores it exactly. */
class DeterminismProperties {

  @Property(tries = 200)
  void sameCommandsSameState(@ForAll("commands") @Size(max = 60) List<Command> commands) {
    Registry a = run(commands);
    Registry b = run(commands);
    assertThat(a.snapshot()).isEqualTo(b.snapshot());
  }

  @Property(tries = 200)
  void snapshotRestoresEverything(@ForAll("commands") @Size(max = 60) List<Command> commands) {
    Registry a = run(commands);
    Registry b = new Registry();
    b.restore(a.snapshot());
    assertThat(b.snapshot()).isEqualTo(a.snapshot());
    assertThat(b.instanceCount()).isEqualTo(a.instanceCount());
    // and both keep evolving identically
    Command next = RegistryTest.register(RegistryTest.inst("svc0", "z", 9));
    a.apply(next);
    b.apply(next);
    assertThat(b.snapshot()).isEqualTo(a.snapshot());
  }

  @Property(tries = 100)
  void viewsMatchStateAfterEveryBatch(@ForAll("commands") @Size(max = 60) List<Command> commands) {
    Registry r = new Registry();
    java.util.Map<ServiceKey, java.util.Map<String, Instance>> mirror = new java.util.HashMap<>();
    r.addListener(c -> {
      var m = mirror.computeIfAbsent(c.key(), k -> new java.util.HashMap<>());
      if (c.previousRevision() == 0) {
        m.clear();
        c.view().instances().forEach(i -> m.put(i.getId(), i));
      } else {
        c.removedIds().forEach(m::remove);
        c.upserts().forEach(i -> m.put(i.getId(), i));
      }
    });
    applyAll(r, commands, x -> { });
    for (ServiceView v : r.allViews()) {
      assertThat(mirror.getOrDefault(v.key(), java.util.Map.of()).values())
          .containsExactlyInAnyOrderElementsOf(v.instances());
    }
  }

  /**
   * A large service's view stays in id order (as {@code String.compareTo} orders) when batches of a
   * few changes are merged into its previous order instead of sorting it again: registrations of
   * new and existing ids, deregistrations, ids of varied length, Latin-1 and beyond.
   */
  @Property(tries = 200)
  void aMergedViewKeepsIdOrder(@ForAll("batches") @Size(max = 30) List<List<Command>> batches) {
    Registry r = new Registry();
    java.util.Set<String> ids = new java.util.TreeSet<>();
    for (int k = 0; k < 64; k++) {
      r.apply(RegistryTest.register(RegistryTest.inst("big", "seed-" + k, 1)));
      ids.add("seed-" + k);
    }
    r.flush();
    for (List<Command> batch : batches) {
      for (Command c : batch) {
        try {
          r.apply(c);
        } catch (LodestarException refused) {
          continue; // deregistering an id not there: refused, nothing changed
        }
        if (c.hasRegisterInstance()) {
          ids.add(c.getRegisterInstance().getInstance().getId());
        } else {
          ids.remove(c.getDeregisterInstance().getId());
        }
      }
      r.flush();
      assertThat(r.view("default", "big").instances()).extracting(Instance::getId).containsExactlyElementsOf(ids);
    }
  }

  @Provide
  Arbitrary<List<List<Command>>> batches() {
    Arbitrary<String> id = Arbitraries.oneOf(Arbitraries.integers().between(0, 80).map(k -> "seed-" + k),
        Arbitraries.integers().between(0, 2000).map(k -> "i" + k),
        Arbitraries.of("", "é", "ü-1", "中", "中文", "a\u0100", "Z", "~")
            .flatMap(p -> Arbitraries.integers().between(0, 9).map(k -> p + k)));
    Arbitrary<Command> change = Combinators.combine(id, Arbitraries.integers().between(0, 3)).as((i, kind) -> kind == 0
        ? Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("default")
            .setService("big").setId(i)).build()
        : RegistryTest.register(RegistryTest.inst("big", i, kind)));
    return change.list().ofMinSize(1).ofMaxSize(7).list();
  }

  /**
   * The per-namespace service count (what a node checks its namespace limit against on every new
   * service) agrees with the services there, as namespaces and services come and go, and after a
   * restore.
   */
  @Property(tries = 200)
  void serviceCountsFollowServices(@ForAll("namespaceCommands") @Size(max = 60) List<Command> commands) {
    Registry r = new Registry();
    applyAll(r, commands, DeterminismProperties::assertCountsMatch);
    Registry restored = new Registry();
    restored.apply(Command.newBuilder().setCreateNamespace(CreateNamespace.newBuilder().setName("gone")).build());
    restored.apply(Command.newBuilder().setPutService(PutService.newBuilder().setNamespace("gone").setName("x"))
        .build());
    restored.restore(r.snapshot());
    assertCountsMatch(restored); // "gone" included: the restore dropped it and its service
  }

  private static void assertCountsMatch(Registry r) {
    for (String ns : List.of("default", "ns1", "ns2", "gone")) {
      assertThat(r.serviceCount(ns)).as(ns).isEqualTo(r.namespace(ns) == null ? 0 : r.views(ns).size());
    }
  }

  @Provide
  Arbitrary<List<Command>> namespaceCommands() {
    Arbitrary<String> ns = Arbitraries.of("default", "ns1", "ns2");
    Arbitrary<String> svc = Arbitraries.of("svc0", "svc1", "svc2");
    Arbitrary<Command> createNs = Arbitraries.of("ns1", "ns2").map(n -> Command.newBuilder()
        .setCreateNamespace(CreateNamespace.newBuilder().setName(n)).build());
    Arbitrary<Command> deleteNs = Arbitraries.of("ns1", "ns2").map(n -> Command.newBuilder()
        .setDeleteNamespace(DeleteNamespace.newBuilder().setName(n)).build());
    Arbitrary<Command> put = Combinators.combine(ns, svc).as((n, s) -> Command.newBuilder()
        .setPutService(PutService.newBuilder().setNamespace(n).setName(s)).build());
    Arbitrary<Command> delete = Combinators.combine(ns, svc).as((n, s) -> Command.newBuilder()
        .setDeleteService(DeleteService.newBuilder().setNamespace(n).setName(s)).build());
    Arbitrary<Command> reg = Combinators.combine(ns, svc, Arbitraries.of("a", "b")).as((n, s, i) -> Command
        .newBuilder().setTimeMs(1000L).setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance
            .newBuilder().setNamespace(n).setService(s).setId(i).setHost("h").setPort(80))).build());
    Arbitrary<Command> dereg = Combinators.combine(ns, svc, Arbitraries.of("a", "b")).as((n, s, i) -> Command
        .newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace(n).setService(s).setId(i))
        .build());
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(2, createNs), net.jqwik.api.Tuple.of(1, deleteNs), net.jqwik.api.Tuple.of(3, put),
        net.jqwik.api.Tuple.of(2, delete), net.jqwik.api.Tuple.of(3, reg), net.jqwik.api.Tuple.of(3, dereg)).list();
  }

  private static Registry run(List<Command> commands) {
    Registry r = new Registry();
    applyAll(r, commands, x -> { });
    return r;
  }

  /** Applies each command as the applier does (a batch each), then calls {@code afterEach}. */
  private static void applyAll(Registry r, List<Command> commands, java.util.function.Consumer<Registry> afterEach) {
    for (Command c : commands) {
      try {
        r.apply(c);
      } catch (LodestarException ignored) {
        // a deterministic refusal changes nothing
      }
      r.flush();
      afterEach.accept(r);
    }
  }

  @Provide
  Arbitrary<List<Command>> commands() {
    Arbitrary<String> svc = Arbitraries.of("svc0", "svc1", "svc2");
    Arbitrary<String> id = Arbitraries.of("a", "b", "c", "d");
    Arbitrary<Command> reg = Combinators.combine(svc, id, Arbitraries.integers().between(1, 3),
        Arbitraries.of("", "o1", "o2")).as((s, i, p, owner) -> Command.newBuilder().setTimeMs(p * 1000L)
            .setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance.newBuilder()
                .setNamespace("default").setService(s).setId(i).setHost("h").setPort(p).setEphemeral(p != 3)
                .setOwner(owner))).build());
    Arbitrary<Command> dereg = Combinators.combine(svc, id).as((s, i) -> Command.newBuilder()
        .setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("default").setService(s).setId(i))
        .build());
    Arbitrary<Command> health = Combinators.combine(svc, id, Arbitraries.of(HealthStatus.HEALTHY,
        HealthStatus.UNHEALTHY), Arbitraries.of(true, false, false)).as((s, i, h, rm) -> Command.newBuilder()
            .setSetHealth(SetHealth.newBuilder().addChanges(SetHealth.Change.newBuilder().setRef(InstanceRef
                .newBuilder().setNamespace("default").setService(s).setId(i)).setStatus(h).setRemove(rm))).build());
    Arbitrary<Command> owned = Arbitraries.of("o1", "o2").map(o -> Command.newBuilder()
        .setDeregisterOwned(DeregisterOwned.newBuilder().setOwner(o)).build());
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(5, reg), net.jqwik.api.Tuple.of(2, dereg), net.jqwik.api.Tuple.of(2, health),
        net.jqwik.api.Tuple.of(1, owned)).list();
  }
}
