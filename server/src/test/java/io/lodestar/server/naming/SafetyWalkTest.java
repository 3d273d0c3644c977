package io.lodestar.server.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.StateMachine;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.StoredInstance;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import io.lodestar.server.naming.HealthChecker.KeepAlive;
import io.lodestar.server.storage.CommandLog;
import io.lodestar.server.storage.LogStatus;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The safety walk under expiry by deadline: a lease that a stream's keep-alive renews is walked
 * only when something flags it, when its keep-alive falls silent, or every
 * {@link HealthChecker#WALK_AT_LEAST_EVERY_NANOS}. A transition only that last walk finds is a
 * missed flag: decided late, and counted. A real registry and health checker on a manual clock,
 * its transitions applied as a log would.
 */
class SafetyWalkTest {
  static final ServiceKey SERVICE = new ServiceKey("default", "orders");
  static final InstanceKey KEY = new InstanceKey(SERVICE, "a");

  final StateMachine sm = new StateMachine();
  final AtomicLong clock = new AtomicLong(1);
  final HealthChecker health = new HealthChecker(sm.registry(), new Applying(), clock::get);
  final KeepAlive keepAlive;

  SafetyWalkTest() {
    sm.registry().addListener(health);
    register(KEY.id(), 30);
    assertThat(health.bind(KEY, keepAlive = health.newKeepAlive())).isTrue();
    health.serving();
    health.scanNow(); // the flagged first walk: the lease is decided and its keep-alive noted
  }

  @AfterEach
  void close() {
    health.close();
  }

  private void register(String id, int ttlSeconds) {
    sm.apply(Command.newBuilder().setTimeMs(clock.get() / 1_000_000).setRegisterInstance(RegisterInstance.newBuilder()
        .setInstance(Instance.newBuilder().setId(id).setNamespace(SERVICE.namespace())
            .setService(SERVICE.service()).setHost("10.0.0.1").setPort(80).setEphemeral(true).setOwner("c")
            .setTtlSeconds(ttlSeconds))).build());
    sm.flush();
  }

  private StoredInstance stored() {
    return stored(KEY.id());
  }

  private StoredInstance stored(String id) {
    return sm.registry().stored(SERVICE.namespace(), SERVICE.service(), id);
  }

  /** Moves the clock on in steps of 10 s, the keep-alive renewing at each, with a scan after each. */
  private void heartbeatFor(Duration d) {
    for (long t = 0; t < d.toNanos(); t += Duration.ofSeconds(10).toNanos()) {
      clock.addAndGet(Duration.ofSeconds(10).toNanos());
      keepAlive.touch();
      health.scanNow();
    }
  }

  @Test
  void aTransitionNothingFlaggedIsFoundByTheSafetyWalkAndCounted() {
    long walks = health.leaseWalks();
    // a status reported without the flag that should come with it (what a bug would do)
    stored().leaseReported(HealthStatus.UNHEALTHY);
    heartbeatFor(Duration.ofSeconds(60));
    assertThat(health.leaseWalks()).as("nothing due while the keep-alive renews").isEqualTo(walks);
    assertThat(stored().health()).isEqualTo(HealthStatus.HEALTHY);

    heartbeatFor(Duration.ofNanos(HealthChecker.WALK_AT_LEAST_EVERY_NANOS));
    assertThat(stored().health()).as("decided by the safety walk").isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(health.safetyCatches()).isEqualTo(1);
  }

  @Test
  void aStreamFallingSilentIsDueByItsDeadlineNotCaughtByTheSafetyWalk() {
    clock.addAndGet(Duration.ofSeconds(31).toNanos()); // past the TTL with no renewal
    health.scanNow();
    assertThat(stored().health()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(health.safetyCatches()).isZero();
  }

  @Test
  void newLeasesMakeNoWalkBeforeTheirTtlCouldRunOut() {
    long walks = health.leaseWalks();
    // a fill: a new instance a second, each bound to the stream that registered it
    for (int k = 0; k < 20; k++) {
      clock.addAndGet(Duration.ofSeconds(1).toNanos());
      register("fill-" + k, 30);
      assertThat(health.bind(new InstanceKey(SERVICE, "fill-" + k), keepAlive)).isTrue();
      keepAlive.touch();
      health.scanNow();
    }
    assertThat(health.leaseWalks()).as("no new lease can lapse within its first 30 s").isEqualTo(walks);
    clock.addAndGet(Duration.ofSeconds(12).toNanos()); // the first new lease's TTL has passed
    keepAlive.touch();
    health.scanNow();
    assertThat(health.leaseWalks()).as("walked once the first new lease could have lapsed").isEqualTo(walks + 1);
    assertThat(stored("fill-0").health()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(health.safetyCatches()).isZero();
  }

  @Test
  void newLeasesWhoseRenewalsStopLapseByTheirOwnTtl() {
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    register("rest", 5); // renewed by its own heartbeats, which never come
    register("streamed", 5);
    KeepAlive silent = health.newKeepAlive();
    assertThat(health.bind(new InstanceKey(SERVICE, "streamed"), silent)).isTrue();
    for (int s = 0; s < 6; s++) { // past both TTLs (5 s, shorter than the walked keep-alive's 30 s)
      clock.addAndGet(Duration.ofSeconds(1).toNanos());
      keepAlive.touch();
      health.scanNow();
    }
    assertThat(stored("rest").health()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(stored("streamed").health()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(stored().health()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(health.safetyCatches()).isZero();
  }

  /** Applies each command to the state machine at once, as a log that has written and synced it. */
  private final class Applying implements CommandLog {
    @Override
    public void open() {
    }

    @Override
    public CompletableFuture<CommandResult> submit(Command command) {
      sm.apply(command.toBuilder().setTimeMs(clock.get() / 1_000_000).build());
      sm.flush();
      return CompletableFuture.completedFuture(CommandResult.getDefaultInstance());
    }

    @Override
    public void snapshot() {
    }

    @Override
    public LogStatus status() {
      return null;
    }

    @Override
    public void close() {
    }
  }
}
