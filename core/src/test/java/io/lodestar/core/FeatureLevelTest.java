package io.lodestar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedInputStream;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.RaiseFeatureLevel;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.api.v1.state.UpdateInstance;
import org.junit.jupiter.api.Test;

/**
 * A state applies commands as at its feature level, which starts at 0 (as the versions before
 * levels applied them) and moves only by a logged raise: a member of a mixed cluster applies every
 * command as the oldest member does, so the replicas never differ.
 */
class FeatureLevelTest {
  private static final InstanceRef REF = InstanceRef.newBuilder().setNamespace("default").setService("orders")
      .setId("a").build();

  private static Command register(int weight) {
    return Command.newBuilder().setTimeMs(1).setRegisterInstance(RegisterInstance.newBuilder().setInstance(
        Instance.newBuilder().setNamespace("default").setService("orders").setId("a").setHost("10.0.0.1")
            .setPort(80).setWeight(weight))).build();
  }

  private static Command operatorWeight(int weight) {
    return Command.newBuilder().setTimeMs(2).setUpdateInstance(UpdateInstance.newBuilder().setRef(REF)
        .setWeight(weight)).build();
  }

  private static Command restoreWeight() {
    return Command.newBuilder().setTimeMs(3).setUpdateInstance(UpdateInstance.newBuilder().setRef(REF)
        .setRestoreWeight(true)).build();
  }

  private static Command raise(int level) {
    return Command.newBuilder().setRaiseFeatureLevel(RaiseFeatureLevel.newBuilder().setLevel(level)).build();
  }

  private static Instance stored(StateMachine m) {
    return m.registry().snapshot().getInstances(0);
  }

  @Test
  void atLevelZeroARegistrationReplacesAnOperatorsWeightAsBeforeLevels() {
    StateMachine m = new StateMachine();
    assertThat(m.featureLevel()).isZero();
    m.apply(register(7));
    m.apply(operatorWeight(0));
    assertThat(stored(m).getWeight()).isZero();
    assertThat(stored(m).hasRegisteredWeight()).as("nothing a version before levels does not store").isFalse();
    m.apply(register(7));
    assertThat(stored(m).getWeight()).isEqualTo(7);
    // a give-back alone is, to a version before levels, a command with nothing in it
    assertThatThrownBy(() -> m.apply(restoreWeight())).isInstanceOfSatisfying(LodestarException.class,
        e -> assertThat(e.field()).isEqualTo("weight"));
    // and a registered weight sent back in a stored form is not read
    m.apply(register(7).toBuilder().setRegisterInstance(RegisterInstance.newBuilder().setInstance(
        register(7).getRegisterInstance().getInstance().toBuilder().setWeight(0).setRegisteredWeight(7))).build());
    assertThat(stored(m).getWeight()).isZero();
    assertThat(stored(m).hasRegisteredWeight()).isFalse();
  }

  @Test
  void fromLevelOneAnOperatorsWeightHoldsAndIsGivenBack() {
    StateMachine m = new StateMachine();
    m.apply(register(7));
    m.apply(raise(1));
    assertThat(m.featureLevel()).isEqualTo(1);
    m.apply(operatorWeight(0));
    m.apply(register(7));
    assertThat(stored(m).getWeight()).isZero();
    assertThat(stored(m).getRegisteredWeight()).isEqualTo(7);
    m.apply(restoreWeight());
    assertThat(stored(m).getWeight()).isEqualTo(7);
    m.apply(raise(0).toBuilder().setRaiseFeatureLevel(RaiseFeatureLevel.newBuilder().setLevel(1)).build());
    assertThat(m.featureLevel()).as("raising to the level it is at changes nothing").isEqualTo(1);
  }

  @Test
  void theLevelTravelsInSnapshotsAndALevelZeroSnapshotHasNoSuchField() throws Exception {
    StateMachine zero = new StateMachine();
    zero.apply(register(7));
    assertThat(zero.snapshot(5).toByteArray()).isEqualTo(zero.snapshot(5).toBuilder().clearFeatureLevel().build()
        .toByteArray());

    StateMachine one = new StateMachine();
    one.apply(register(7));
    one.apply(raise(1));
    StateSnapshot whole = one.snapshot(9);
    assertThat(whole.getFeatureLevel()).isEqualTo(1);
    StateMachine fromWhole = new StateMachine();
    fromWhole.restore(whole);
    assertThat(fromWhole.featureLevel()).isEqualTo(1);

    byte[] bytes = StreamedSnapshotProperties.stream(one.captureSnapshot(9));
    assertThat(StreamedSnapshotProperties.canonical(bytes)).isEqualTo(whole.toByteArray());
    StateMachine fromStream = new StateMachine();
    StreamedSnapshot.restore(CodedInputStream.newInstance(bytes), fromStream);
    assertThat(fromStream.featureLevel()).isEqualTo(1);
    assertThat(StreamedSnapshot.check(CodedInputStream.newInstance(bytes)).featureLevel()).isEqualTo(1);

    // a backup of an older state takes the level down with it (the leader raises it again)
    fromStream.restore(zero.snapshot(5));
    assertThat(fromStream.featureLevel()).isZero();
  }

  @Test
  void aLevelThisVersionDoesNotKnowStopsTheReplicaInsteadOfBeingRefused() {
    StateMachine m = new StateMachine();
    // not a LodestarException: a refusal changes nothing and the replica would go on, unlike the others
    assertThatThrownBy(() -> m.apply(raise(StateMachine.FEATURE_LEVEL + 1)))
        .isInstanceOf(IllegalStateException.class).isNotInstanceOf(LodestarException.class)
        .hasMessageContaining("run the version the other members run");
    assertThatThrownBy(() -> new StateMachine().restore(StateSnapshot.newBuilder()
        .setFeatureLevel(StateMachine.FEATURE_LEVEL + 1).build())).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> StateMachine.validate(raise(0))).isInstanceOfSatisfying(LodestarException.class,
        e -> assertThat(e.field()).isEqualTo("level"));
  }
}
