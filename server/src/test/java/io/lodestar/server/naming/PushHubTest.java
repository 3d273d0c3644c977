package io.lodestar.server.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.StateMachine;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.server.push.FanOut;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The naming push hub against fake subscribers: slow, dirty, cancelled and reconnecting ones. */
class PushHubTest {
  static final ServiceKey KEY = new ServiceKey("default", "orders");

  /** A stream whose readiness the test sets; it records what it is sent, as a client reads it. */
  static final class FakeTarget implements FanOut.Target {
    volatile boolean ready = true;
    private final List<ServiceUpdate> got = new ArrayList<>();

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public synchronized void send(ServerMessage message) {
      try {
        got.add(ServerMessage.parseFrom(message.toByteArray()).getUpdate()); // off the wire, as a client does
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }

    synchronized List<ServiceUpdate> got() {
      return List.copyOf(got);
    }

    synchronized ServiceUpdate last() {
      return got.get(got.size() - 1);
    }
  }

  final StateMachine sm = new StateMachine();
  final PushHub hub = new PushHub(sm.registry(), new SimpleMeterRegistry());
  long time = 1;

  {
    sm.registry().addListener(hub);
  }

  @AfterEach
  void close() {
    hub.close();
  }

  void register(String id) {
    apply(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder().setInstance(Instance.newBuilder()
        .setId(id).setNamespace(KEY.namespace()).setService(KEY.service()).setHost("10.0.0.1").setPort(80))));
  }

  void deregister(String id) {
    apply(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder()
        .setNamespace(KEY.namespace()).setService(KEY.service()).setId(id)));
  }

  void apply(Command.Builder c) {
    sm.apply(c.setTimeMs(time++).build());
    sm.flush();
    idle();
  }

  void idle() {
    hub.fanOut().awaitIdle();
  }

  long revision() {
    return sm.registry().view(KEY.namespace(), KEY.service()).revision();
  }

  @Test
  void aSubscriberGetsASnapshotThenDeltasFromItsRevision() {
    register("a");
    FakeTarget t = new FakeTarget();
    hub.subscribe(t, KEY, 0);
    idle();
    register("b");
    deregister("a");

    List<ServiceUpdate> got = t.got();
    assertThat(got).hasSize(3);
    assertThat(got.get(0).getSnapshot()).isTrue();
    assertThat(got.get(0).getInstancesList()).extracting(Instance::getId).containsExactly("a");
    assertThat(got.get(1).getBaseRevision()).isEqualTo(got.get(0).getRevision());
    assertThat(got.get(1).getInstancesList()).extracting(Instance::getId).containsExactly("b");
    assertThat(got.get(2).getBaseRevision()).isEqualTo(got.get(1).getRevision());
    assertThat(got.get(2).getRemovedIdsList()).containsExactly("a");
    assertThat(got.get(2).getRevision()).isEqualTo(revision());
  }

  @Test
  void aSlowSubscriberIsNotQueuedToAndGetsOneSnapshotOfTheLatestWhenItDrains() {
    FakeTarget slow = new FakeTarget();
    FakeTarget fast = new FakeTarget();
    hub.subscribe(slow, KEY, 0);
    hub.subscribe(fast, KEY, 0);
    idle();
    slow.ready = false;
    register("a");
    register("b");
    register("c");
    assertThat(slow.got()).hasSize(1); // only its first snapshot: nothing buffered for it
    assertThat(fast.got()).hasSize(4); // the others do not wait for it

    slow.ready = true;
    hub.onReady(slow);
    idle();
    assertThat(slow.got()).hasSize(2);
    assertThat(slow.last().getSnapshot()).isTrue();
    assertThat(slow.last().getRevision()).isEqualTo(revision());
    assertThat(slow.last().getInstancesList()).extracting(Instance::getId).containsExactlyInAnyOrder("a", "b", "c");

    register("d"); // and from there on, deltas again
    assertThat(slow.last().getSnapshot()).isFalse();
    assertThat(slow.last().getBaseRevision()).isEqualTo(slow.got().get(1).getRevision());
  }

  @Test
  void aDirtySubscriberWhoseReadinessSignalIsLostIsCaughtUpByTheSweep() {
    FakeTarget t = new FakeTarget();
    hub.subscribe(t, KEY, 0);
    idle();
    t.ready = false;
    register("a");
    t.ready = true; // ...and no onReady arrives
    assertThat(t.got()).hasSize(1);

    hub.fanOut().sweepNow();
    idle();
    assertThat(t.got()).hasSize(2);
    assertThat(t.last().getRevision()).isEqualTo(revision());
    hub.fanOut().sweepNow(); // caught up: the next sweep sends nothing
    idle();
    assertThat(t.got()).hasSize(2);
  }

  @Test
  void aCancelledSubscriberIsForgottenWithAllItsSubscriptions() {
    FakeTarget gone = new FakeTarget();
    FakeTarget stays = new FakeTarget();
    hub.subscribe(gone, KEY, 0);
    hub.subscribe(gone, new ServiceKey("default", "other"), 0);
    hub.subscribe(stays, KEY, 0);
    idle();
    gone.ready = false; // cancelled streams are never ready again
    register("a");
    assertThat(hub.fanOut().subscriptionCount()).isEqualTo(3);

    hub.remove(gone);
    idle();
    assertThat(hub.fanOut().subscriptionCount()).isEqualTo(1);
    gone.ready = true;
    hub.fanOut().sweepNow(); // its dirty subscription went with it
    register("b");
    assertThat(gone.got()).hasSize(2); // its two first snapshots, nothing after
    assertThat(stays.got()).hasSize(3);
  }

  @Test
  void aReconnectingSubscriberGetsAnEmptyDeltaWhenCurrentAndASnapshotWhenBehind() {
    register("a");
    long current = revision();
    FakeTarget again = new FakeTarget();
    hub.subscribe(again, KEY, current);
    idle();
    assertThat(again.got()).singleElement().satisfies(u -> {
      assertThat(u.getSnapshot()).isFalse();
      assertThat(u.getBaseRevision()).isEqualTo(current);
      assertThat(u.getRevision()).isEqualTo(current);
      assertThat(u.getInstancesCount()).isZero();
    });

    register("b");
    FakeTarget behind = new FakeTarget();
    hub.subscribe(behind, KEY, current);
    idle();
    assertThat(behind.got()).singleElement().satisfies(u -> {
      assertThat(u.getSnapshot()).isTrue();
      assertThat(u.getRevision()).isEqualTo(revision());
      assertThat(u.getInstancesList()).extracting(Instance::getId).containsExactlyInAnyOrder("a", "b");
    });
  }

  @Test
  void aFetchAnswersTheCurrentViewFromBytesRenderedOncePerRevision() throws Exception {
    register("a");
    register("b");
    ServerMessage first = ServerMessage.parseFrom(hub.fetched(7, KEY).toByteArray());
    assertThat(first.getRequestId()).isEqualTo(7);
    assertThat(first.getFetched().getSnapshot()).isTrue();
    assertThat(first.getFetched().getRevision()).isEqualTo(revision());
    assertThat(first.getFetched().getInstancesList())
        .isEqualTo(sm.registry().view(KEY.namespace(), KEY.service()).instances());
    // the same revision: the same bytes, not rendered again
    assertThat(hub.fetched(8, KEY).getUnknownFields().getField(ServerMessage.FETCHED_FIELD_NUMBER)
        .getLengthDelimitedList().get(0)).isSameAs(hub.fetched(9, KEY).getUnknownFields()
        .getField(ServerMessage.FETCHED_FIELD_NUMBER).getLengthDelimitedList().get(0));

    // a change: the next fetch renders the new view, never the bytes of the one before
    deregister("a");
    ServiceUpdate after = ServerMessage.parseFrom(hub.fetched(10, KEY).toByteArray()).getFetched();
    assertThat(after.getRevision()).isEqualTo(revision()).isGreaterThan(first.getFetched().getRevision());
    assertThat(after.getInstancesList()).extracting(Instance::getId).containsExactly("b");
  }

  @Test
  void changesOfAServiceNobodyFollowsStopAtThePublisherAndTheNextSubscriberStillGetsThem() {
    register("a"); // nobody follows: dropped where it is published
    assertThat(hub.fanOut().follows(KEY)).isFalse();
    FakeTarget t = new FakeTarget();
    hub.subscribe(t, KEY, 0);
    idle();
    assertThat(hub.fanOut().follows(KEY)).isTrue();
    assertThat(t.last().getInstancesList()).extracting(Instance::getId).containsExactly("a");

    hub.unsubscribe(t, KEY);
    idle();
    assertThat(hub.fanOut().follows(KEY)).isFalse();
    register("b");
    assertThat(t.got()).hasSize(1);
    FakeTarget later = new FakeTarget();
    hub.subscribe(later, KEY, t.last().getRevision());
    idle();
    assertThat(later.last().getSnapshot()).isTrue();
    assertThat(later.last().getRevision()).isEqualTo(revision());
    assertThat(later.last().getInstancesList()).extracting(Instance::getId).containsExactlyInAnyOrder("a", "b");

    hub.remove(later); // a stream that ends takes its keys with it
    idle();
    assertThat(hub.fanOut().follows(KEY)).isFalse();
  }

  @Test
  void aSubscriptionRacingAStreamOfChangesMissesNoneOfThem() throws Exception {
    for (int round = 0; round < 40; round++) {
      String prefix = "r" + round + "-";
      int subscribeAt = round * 4;
      FakeTarget t = new FakeTarget();
      java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
      Thread applier = new Thread(() -> {
        for (int i = 0; i < 200; i++) {
          sm.apply(Command.newBuilder().setTimeMs(1).setRegisterInstance(RegisterInstance.newBuilder()
              .setInstance(Instance.newBuilder().setId(prefix + i).setNamespace(KEY.namespace())
                  .setService(KEY.service()).setHost("10.0.0.1").setPort(80))).build());
          sm.flush();
          if (i == subscribeAt) {
            started.countDown();
          }
        }
      });
      applier.start();
      started.await();
      hub.subscribe(t, KEY, 0); // somewhere in the middle of the stream of changes
      applier.join();
      idle();

      // what the subscriber holds, rebuilt as an SDK does (a snapshot replaces, a delta from the
      // revision held applies), is the registry's latest state: no change missed
      List<ServiceUpdate> got = t.got();
      assertThat(got.get(0).getSnapshot()).as("round %d", round).isTrue();
      java.util.Set<String> held = new java.util.HashSet<>();
      long at = 0;
      for (ServiceUpdate u : got) {
        if (u.getSnapshot()) {
          held.clear();
        } else {
          assertThat(u.getBaseRevision()).as("round %d: a delta from the revision held", round).isEqualTo(at);
        }
        u.getInstancesList().forEach(i -> held.add(i.getId()));
        held.removeAll(u.getRemovedIdsList());
        at = u.getRevision();
      }
      assertThat(at).as("round %d", round).isEqualTo(revision());
      assertThat(held).as("round %d", round).isEqualTo(sm.registry().view(KEY.namespace(), KEY.service())
          .instances().stream().map(Instance::getId).collect(java.util.stream.Collectors.toSet()));
      hub.remove(t);
      idle();
    }
  }
}
