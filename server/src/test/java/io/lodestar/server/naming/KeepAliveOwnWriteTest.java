package io.lodestar.server.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.StateMachine;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import io.lodestar.server.naming.HealthChecker.KeepAlive;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a replacement of an instance tells the keep-alive that renews it, while that keep-alive's
 * own stream has a registration of the instance in flight: a real registry and health checker,
 * commands applied in the order a log would.
 */
class KeepAliveOwnWriteTest {
  static final ServiceKey SERVICE = new ServiceKey("default", "orders");
  static final InstanceKey KEY = new InstanceKey(SERVICE, "a");

  final StateMachine sm = new StateMachine();
  final HealthChecker health = new HealthChecker(sm.registry(), null, () -> 0L);
  final KeepAlive keepAlive;
  long time = 1;

  KeepAliveOwnWriteTest() {
    sm.registry().addListener(health);
    register(1);
    assertThat(health.bind(KEY, keepAlive = health.newKeepAlive())).isTrue();
  }

  @AfterEach
  void close() {
    health.close();
  }

  /** A registration of instance "a" with {@code weight}: replaces it, carrying its lease over. */
  void register(int weight) {
    sm.apply(Command.newBuilder().setTimeMs(time++).setRegisterInstance(RegisterInstance.newBuilder()
        .setInstance(Instance.newBuilder().setId(KEY.id()).setNamespace(SERVICE.namespace())
            .setService(SERVICE.service()).setHost("10.0.0.1").setPort(80).setEphemeral(true).setOwner("c")
            .setTtlSeconds(30).setWeight(weight))).build());
    sm.flush();
  }

  @Test
  void aReplacementTellsTheKeepAliveThatRenewsIt() {
    long changes = keepAlive.leaseChanges();
    long epoch = health.leaseEpoch();
    register(2);
    assertThat(keepAlive.leaseChanges()).isEqualTo(changes + 1);
    assertThat(health.leaseEpoch()).as("the keep-alive was told instead").isEqualTo(epoch);
  }

  @Test
  void itsOwnStreamsAnsweredRegistrationTellsItNothingButAReplacementAfterTheAnswerDoes() {
    long changes = keepAlive.leaseChanges();
    keepAlive.ownWriteStarted(KEY);
    register(2); // the stream's own, applied
    keepAlive.ownWriteEnded(KEY, false); // answered: the stream binds and keeps the result now
    assertThat(keepAlive.leaseChanges()).isEqualTo(changes);
    register(3); // an operator's, after the answer
    assertThat(keepAlive.leaseChanges()).isEqualTo(changes + 1);
  }

  @Test
  void aReplacementWhileItsOwnStreamsRegistrationIsInFlightIsToldWhenThatRegistrationFails() {
    long changes = keepAlive.leaseChanges();
    long epoch = health.leaseEpoch();
    keepAlive.ownWriteStarted(KEY);
    register(2); // an operator's, while the stream's own is in flight: its answer would cover it
    assertThat(keepAlive.leaseChanges()).isEqualTo(changes);
    keepAlive.ownWriteEnded(KEY, true); // but it failed: nothing binds it, so the check must look
    assertThat(keepAlive.leaseChanges()).isEqualTo(changes + 1);
    assertThat(health.leaseEpoch()).isEqualTo(epoch);
  }

  @Test
  void anotherInstancesReplacementIsToldWhileOneIsInFlight() {
    InstanceKey other = new InstanceKey(SERVICE, "b");
    long changes = keepAlive.leaseChanges();
    keepAlive.ownWriteStarted(other);
    register(2);
    assertThat(keepAlive.leaseChanges()).isEqualTo(changes + 1);
    keepAlive.ownWriteEnded(other, false);
  }
}
