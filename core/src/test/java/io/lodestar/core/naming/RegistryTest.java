package io.lodestar.core.naming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateNamespace;
import io.lodestar.api.v1.state.DeleteNamespace;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.SetHealth;
import io.lodestar.core.LodestarException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegistryTest {
  private final Registry registry = new Registry();
  private final List<ServiceChange> changes = new ArrayList<>();

  RegistryTest() {
    registry.addListener(changes::add);
  }

  static Instance inst(String svc, String id, int port) {
    return Instance.newBuilder().setNamespace("default").setService(svc).setId(id).setHost("10.0.0.1").setPort(port)
        .setEphemeral(true).build();
  }

  static Command register(Instance i) {
    return Command.newBuilder().setTimeMs(1000).setRegisterInstance(RegisterInstance.newBuilder().setInstance(i)).build();
  }

  private void apply(Command... cmds) {
    for (Command c : cmds) {
      registry.apply(c);
    }
    registry.flush();
  }

  static Command update(String svc, String id, Integer weight, Boolean isolated) {
    var u = io.lodestar.api.v1.state.UpdateInstance.newBuilder().setRef(io.lodestar.api.v1.state.InstanceRef
        .newBuilder().setNamespace("default").setService(svc).setId(id));
    if (weight != null) {
      u.setWeight(weight);
    }
    if (isolated != null) {
      u.setIsolated(isolated);
    }
    return Command.newBuilder().setTimeMs(2000).setUpdateInstance(u).build();
  }

  /**
   * Soft state, which a single node may answer before its sync, is ephemeral instances only:
   * their registration, health transitions and a closed stream's removals; never a persistent
   * instance, what replaces one, or anything an operator or a deregistration asks for.
   */
  @Test
  void onlyEphemeralInstanceChangesAreSoftState() {
    Instance persistent = inst("db", "p", 1).toBuilder().setEphemeral(false).build();
    Instance owned = inst("web", "o", 2).toBuilder().setOwner("client-1").build();
    assertThat(registry.softState(register(inst("web", "e", 1)))).isTrue();
    assertThat(registry.softState(register(persistent))).isFalse();
    apply(register(persistent), register(owned));
    // an ephemeral registration that would replace a persistent instance is not
    assertThat(registry.softState(register(persistent.toBuilder().setEphemeral(true).build()))).isFalse();
    assertThat(registry.softState(health("web", "o"))).isTrue();
    assertThat(registry.softState(health("db", "p"))).isFalse();
    assertThat(registry.softState(Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder()
        .setOwner("client-1")).build())).isTrue();
    assertThat(registry.softState(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder()
        .setNamespace("default").setService("web").setId("o")).build())).isFalse();
    assertThat(registry.softState(update("web", "o", 5, null))).isFalse();
    assertThat(registry.softState(Command.newBuilder().setPutService(PutService.newBuilder().setNamespace("default")
        .setName("web")).build())).isFalse();
  }

  private static Command health(String svc, String id) {
    return Command.newBuilder().setSetHealth(SetHealth.newBuilder().addChanges(SetHealth.Change.newBuilder()
        .setRef(InstanceRef.newBuilder().setNamespace("default").setService(svc).setId(id))
        .setStatus(HealthStatus.UNHEALTHY))).build();
  }

  @Test
  void isolationTakesAnInstanceOutOfDiscoveryAndSurvivesReRegistration() {
    apply(register(inst("orders", "a", 1)), register(inst("orders", "b", 2)));
    long before = registry.view("default", "orders").revision();
    apply(update("orders", "a", 7, true));
    ServiceView v = registry.view("default", "orders");
    assertThat(v.revision()).isGreaterThan(before);
    assertThat(v.instances()).hasSize(2);
    assertThat(v.healthy().instances()).extracting(Instance::getId).containsExactly("b");
    assertThat(v.isolatedCount()).isEqualTo(1);
    apply(register(inst("orders", "a", 1)));  // the registrant re-asserts: isolation is kept
    assertThat(registry.view("default", "orders").healthy().instances()).extracting(Instance::getId)
        .containsExactly("b");
    long rev = registry.view("default", "orders").revision();
    apply(update("orders", "a", null, false));
    v = registry.view("default", "orders");
    assertThat(v.healthy().instances()).extracting(Instance::getId).containsExactly("a", "b");
    apply(update("orders", "a", null, false));  // no change: no revision
    assertThat(registry.view("default", "orders").revision()).isEqualTo(v.revision()).isGreaterThan(rev);
    assertThatThrownBy(() -> registry.apply(update("orders", "zz", 1, null))).isInstanceOf(LodestarException.class);
    assertThatThrownBy(() -> registry.apply(update("orders", "a", null, null))).isInstanceOf(LodestarException.class);
  }

  /**
   * An operator's weight (a drain to 0) holds over the instance's re-registrations, which record
   * their own weight beside it, until the operator hands the weight back.
   */
  @Test
  void anOperatorsWeightHoldsOverReRegistrationUntilRestored() {
    apply(register(inst("orders", "a", 1)));
    apply(update("orders", "a", 0, null));
    assertThat(instance("orders", "a")).satisfies(i -> {
      assertThat(i.getWeight()).isZero();
      assertThat(i.getRegisteredWeight()).isEqualTo(Registry.DEFAULT_WEIGHT);
    });
    apply(register(inst("orders", "a", 1).toBuilder().setWeight(50).build()));  // e.g. a restarted app
    assertThat(instance("orders", "a")).satisfies(i -> {
      assertThat(i.getWeight()).isZero();
      assertThat(i.getRegisteredWeight()).isEqualTo(50);
    });
    // an SDK re-asserting what it holds changes nothing: no log entry is needed for it
    RegisterInstance again = RegisterInstance.newBuilder()
        .setInstance(inst("orders", "a", 1).toBuilder().setWeight(50)).build();
    assertThat(registry.unchangedBy(again)).isTrue();
    long rev = registry.view("default", "orders").revision();
    apply(Command.newBuilder().setTimeMs(3000).setRegisterInstance(again).build());
    assertThat(registry.view("default", "orders").revision()).isEqualTo(rev);
    apply(update("orders", "a", 3, null));  // a second operator's weight keeps what it registered
    assertThat(instance("orders", "a").getRegisteredWeight()).isEqualTo(50);

    apply(restoreWeight("orders", "a"));
    assertThat(instance("orders", "a")).satisfies(i -> {
      assertThat(i.getWeight()).isEqualTo(50);
      assertThat(i.hasRegisteredWeight()).isFalse();
    });
    rev = registry.view("default", "orders").revision();
    apply(restoreWeight("orders", "a"));  // nothing to hand back: no change, no revision
    assertThat(registry.view("default", "orders").revision()).isEqualTo(rev);
    apply(register(inst("orders", "a", 1).toBuilder().setWeight(60).build()));
    assertThat(instance("orders", "a").getWeight()).isEqualTo(60);  // its own again

    Command both = Command.newBuilder().setUpdateInstance(restoreWeight("orders", "a").getUpdateInstance()
        .toBuilder().setWeight(5)).build();
    assertThatThrownBy(() -> Registry.validate(both)).isInstanceOf(LodestarException.class)
        .satisfies(e -> assertThat(((LodestarException) e).field()).isEqualTo("restoreWeight"));
  }

  /**
   * A stored form sent back as a registration (a lease claimed on another node, a stream
   * re-asserting what it was answered with) carries the operator's weight beside its own: the
   * instance's own is what it registers, and the operator's stays only while the registry holds it.
   */
  @Test
  void aStoredFormSentBackRegistersItsOwnWeight() {
    apply(register(inst("orders", "a", 1).toBuilder().setWeight(7).build()));
    apply(update("orders", "a", 0, null));
    Instance claim = instance("orders", "a").toBuilder().setLeaseHolder("node-2").clearRevision().clearHealth()
        .clearRegisteredAtMs().build();
    apply(register(claim));
    assertThat(instance("orders", "a")).satisfies(i -> {
      assertThat(i.getLeaseHolder()).isEqualTo("node-2");
      assertThat(i.getWeight()).isZero();
      assertThat(i.getRegisteredWeight()).isEqualTo(7);
    });
    apply(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("default")
        .setService("orders").setId("a")).build());
    apply(register(claim));  // re-asserted after it was gone: its own weight, no operator's
    assertThat(instance("orders", "a")).satisfies(i -> {
      assertThat(i.getWeight()).isEqualTo(7);
      assertThat(i.hasRegisteredWeight()).isFalse();
    });
  }

  private Instance instance(String svc, String id) {
    return registry.view("default", svc).instances().stream().filter(i -> i.getId().equals(id)).findFirst()
        .orElseThrow();
  }

  private static Command restoreWeight(String svc, String id) {
    return Command.newBuilder().setTimeMs(2000).setUpdateInstance(io.lodestar.api.v1.state.UpdateInstance.newBuilder()
        .setRef(InstanceRef.newBuilder().setNamespace("default").setService(svc).setId(id)).setRestoreWeight(true))
        .build();
  }

  @Test
  void registrationAppliesDefaultsAndGrowsRevisions() {
    apply(register(inst("orders", "a", 1)));
    ServiceView v = registry.view("default", "orders");
    assertThat(v.instances()).singleElement().satisfies(i -> {
      assertThat(i.getWeight()).isEqualTo(Registry.DEFAULT_WEIGHT);
      assertThat(i.getTtlSeconds()).isEqualTo(Registry.DEFAULT_TTL_SECONDS);
      assertThat(i.getHealth()).isEqualTo(HealthStatus.HEALTHY);
      assertThat(i.getRegisteredAtMs()).isEqualTo(1000);
    });
    long first = v.revision();
    apply(register(inst("orders", "b", 2)));
    assertThat(registry.view("default", "orders").revision()).isGreaterThan(first);
    assertThat(registry.instanceCount()).isEqualTo(2);
  }

  @Test
  void reassertingTheSameInstanceChangesNothing() {
    apply(register(inst("orders", "a", 1)));
    long rev = registry.revision();
    changes.clear();
    apply(register(inst("orders", "a", 1)));
    assertThat(registry.revision()).isEqualTo(rev);
    assertThat(changes).isEmpty();
  }

  @Test
  void aViewKeepsItsInstancesSortedByIdAcrossBatchesOfFewChanges() {
    // flush applies a batch's few changes to the previous view's order instead of sorting again:
    // registrations, re-registrations with new content, updates and removals in random batches
    java.util.Random random = new java.util.Random(11);
    java.util.TreeMap<String, Integer> expected = new java.util.TreeMap<>();
    for (int i = 0; i < 60; i++) {
      expected.put("i-" + i, i + 1);
      registry.apply(register(inst("orders", "i-" + i, i + 1)));
    }
    registry.flush();
    for (int batch = 0; batch < 300; batch++) {
      for (int k = random.nextInt(6); k >= 0; k--) {
        String id = "i-" + random.nextInt(90);
        switch (random.nextInt(3)) {
          case 0 -> {
            int port = 1 + random.nextInt(60_000);
            registry.apply(register(inst("orders", id, port)));
            expected.put(id, port);
          }
          case 1 -> {
            if (expected.remove(id) != null) {
              registry.apply(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder()
                  .setNamespace("default").setService("orders").setId(id)).build());
            }
          }
          default -> {
            if (expected.containsKey(id)) {
              registry.apply(update("orders", id, 1 + random.nextInt(100), null));
            }
          }
        }
      }
      registry.flush();
      ServiceView view = registry.view("default", "orders");
      assertThat(view.instances()).extracting(Instance::getId).containsExactlyElementsOf(expected.keySet());
      assertThat(view.instances()).extracting(Instance::getPort).containsExactlyElementsOf(expected.values());
      for (Instance i : view.instances()) {
        assertThat(i).isEqualTo(registry.stored("default", "orders", i.getId()).toInstance());
      }
    }
  }

  @Test
  void aBatchIsOneCoalescedChangePerService() {
    changes.clear();
    apply(register(inst("orders", "a", 1)), register(inst("orders", "b", 2)),
        Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("default")
            .setService("orders").setId("a")).build());
    assertThat(changes).singleElement().satisfies(c -> {
      assertThat(c.upserts()).extracting(Instance::getId).containsExactly("b");
      assertThat(c.removedIds()).containsExactly("a");
      assertThat(c.previousRevision()).isZero(); // a new service has no base
    });
    changes.clear();
    apply(register(inst("orders", "c", 3)));
    ServiceChange c = changes.get(0);
    assertThat(c.previousRevision()).isLessThan(c.view().revision()).isPositive();
  }

  @Test
  void unknownNamespaceIsRefusedWithoutChange() {
    Instance i = inst("orders", "a", 1).toBuilder().setNamespace("nope").build();
    assertThatThrownBy(() -> registry.apply(register(i))).isInstanceOf(LodestarException.class)
        .extracting(e -> ((LodestarException) e).code()).isEqualTo(LodestarException.Code.NOT_FOUND);
    assertThat(registry.revision()).isZero();
  }

  @Test
  void invalidInstancesNameTheField() {
    assertThatThrownBy(() -> Registry.validate(register(inst("orders", "a", 70000))))
        .isInstanceOf(LodestarException.class).extracting(e -> ((LodestarException) e).field()).isEqualTo("port");
    assertThatThrownBy(() -> Registry.validate(register(inst("bad name", "a", 1))))
        .extracting(e -> ((LodestarException) e).field()).isEqualTo("service");
    assertThatThrownBy(() -> Registry.validate(register(inst("x".repeat(129), "a", 1))))
        .extracting(e -> ((LodestarException) e).field()).isEqualTo("service");
    assertThatThrownBy(() -> Registry.validate(register(inst("orders", "a", 1).toBuilder().setWeight(10_001).build())))
        .extracting(e -> ((LodestarException) e).field()).isEqualTo("weight");
    assertThatThrownBy(() -> Registry.validate(register(inst("orders", "a", 1).toBuilder().setHost("").build())))
        .extracting(e -> ((LodestarException) e).field()).isEqualTo("host");
  }

  @Test
  void namespaceDeletionRefusesNonEmptyAndDefault() {
    apply(Command.newBuilder().setCreateNamespace(CreateNamespace.newBuilder().setName("prod")).build());
    apply(register(inst("orders", "a", 1).toBuilder().setNamespace("prod").build()));
    Command delete = Command.newBuilder().setDeleteNamespace(DeleteNamespace.newBuilder().setName("prod")).build();
    assertThatThrownBy(() -> registry.apply(delete)).extracting(e -> ((LodestarException) e).code())
        .isEqualTo(LodestarException.Code.FAILED_PRECONDITION);
    assertThatThrownBy(() -> registry.apply(Command.newBuilder().setDeleteNamespace(
        DeleteNamespace.newBuilder().setName("default")).build())).isInstanceOf(LodestarException.class);
    apply(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("prod")
        .setService("orders").setId("a")).build());
    apply(delete);
    assertThat(registry.namespace("prod")).isNull();
    assertThat(registry.views("prod")).isEmpty();
  }

  @Test
  void healthTransitionsAndExpiry() {
    apply(register(inst("orders", "a", 1)), register(inst("orders", "b", 2)));
    InstanceRef ref = InstanceRef.newBuilder().setNamespace("default").setService("orders").setId("a").build();
    apply(Command.newBuilder().setSetHealth(SetHealth.newBuilder().addChanges(SetHealth.Change.newBuilder()
        .setRef(ref).setStatus(HealthStatus.UNHEALTHY))).build());
    assertThat(registry.view("default", "orders").healthyCount()).isEqualTo(1);
    apply(Command.newBuilder().setSetHealth(SetHealth.newBuilder().addChanges(SetHealth.Change.newBuilder()
        .setRef(ref).setRemove(true))).build());
    assertThat(registry.view("default", "orders").instances()).extracting(Instance::getId).containsExactly("b");
  }

  @Test
  void protectionReturnsEveryInstanceWhenMostAreUnhealthy() {
    apply(register(inst("orders", "a", 1)), register(inst("orders", "b", 2)), register(inst("orders", "c", 3)));
    SetHealth.Builder sh = SetHealth.newBuilder();
    for (String id : List.of("a", "b")) {
      sh.addChanges(SetHealth.Change.newBuilder().setStatus(HealthStatus.UNHEALTHY).setRef(InstanceRef.newBuilder()
          .setNamespace("default").setService("orders").setId(id)));
    }
    apply(Command.newBuilder().setSetHealth(sh).build());
    ServiceView.Selection sel = registry.view("default", "orders").healthy();
    assertThat(sel.protectionApplied()).isTrue();
    assertThat(sel.instances()).hasSize(3);
    // a threshold of 1.0 turns protection off
    apply(Command.newBuilder().setPutService(PutService.newBuilder().setNamespace("default").setName("orders")
        .setProtectThreshold(1.0)).build());
    sel = registry.view("default", "orders").healthy();
    assertThat(sel.protectionApplied()).isFalse();
    assertThat(sel.instances()).extracting(Instance::getId).containsExactly("c");
  }

  @Test
  void deregisterOwnedRemovesOnlyThatOwnersInstances() {
    apply(register(inst("orders", "a", 1).toBuilder().setOwner("c1").build()),
        register(inst("orders", "b", 2).toBuilder().setOwner("c2").build()),
        register(inst("users", "u", 3).toBuilder().setOwner("c1").build()));
    apply(Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder().setOwner("c1")).build());
    assertThat(registry.view("default", "orders").instances()).extracting(Instance::getId).containsExactly("b");
    assertThat(registry.view("default", "users").instances()).isEmpty();
  }

  /** The owner index follows an instance from owner to owner, and re-registration under one owner. */
  @Test
  void deregisterOwnedFollowsATakeover() {
    apply(register(inst("orders", "a", 1).toBuilder().setOwner("c1").build()),
        register(inst("orders", "b", 2).toBuilder().setOwner("c1").build()));
    // "a" changes under its owner (a new port), "b" is taken over by another client
    apply(register(inst("orders", "a", 9).toBuilder().setOwner("c1").build()),
        register(inst("orders", "b", 2).toBuilder().setOwner("c2").build()));
    apply(Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder().setOwner("c1")).build());
    assertThat(registry.view("default", "orders").instances()).extracting(Instance::getId).containsExactly("b");
    apply(Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder().setOwner("c2")).build());
    assertThat(registry.view("default", "orders").instances()).isEmpty();
  }

  /**
   * An owner's instances leave in one deterministic order, whatever the history of the set that
   * tracks them: a node restored from a snapshot numbers the removals as one that replayed the log.
   */
  @Test
  void deregisterOwnedNumbersRemovalsTheSameAfterARestore() {
    // grow the owner's set past a resize, then shrink it: the replayed set keeps its large table,
    // the restored one is rebuilt small, so any hash-order iteration would differ
    for (int n = 0; n < 40; n++) {
      apply(register(inst("svc" + n, "i" + n, 1).toBuilder().setOwner("o").build()));
    }
    for (int n = 0; n < 40; n += 5) {
      // keep every fifth
      for (int k = n + 1; k < n + 5; k++) {
        apply(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace("default")
            .setService("svc" + k).setId("i" + k)).build());
      }
    }
    Registry restored = new Registry();
    restored.restore(registry.snapshot());
    Command drop = Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder().setOwner("o")).build();
    registry.apply(drop);
    registry.flush();
    restored.apply(drop);
    restored.flush();
    assertThat(restored.snapshot()).isEqualTo(registry.snapshot());
  }
}
