package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.BatchOutcome;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandBatch;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.StateMachine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.impl.BlockRequestHandlingInjection;
import org.apache.ratis.server.simulation.MiniRaftClusterWithSimulatedRpc;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;

/**
 * Three replicas of Lodestar's state machine ({@link RatisStateMachine} over core's
 * {@link StateMachine}) in one JVM, over Ratis' simulated transport, driven through a scripted
 * schedule of faults: a partitioned leader, a stalled follower, a killed leader restarted from its
 * snapshot. One client writes sequentially and records every operation; the checker then holds
 * the history against the model, in the spirit of etcd's robustness tests and Jepsen's checkers:
 * no acknowledged write lost, revisions growing in the order the writes were acknowledged, and
 * every replica ending in the same state.
 */
class SimulatedClusterTest {
  /** One client operation and what the client learnt of it: acknowledged (with its revision) or not known. */
  private record Op(String id, boolean acknowledged, long revision) {}

  private final List<Op> history = new ArrayList<>();
  private int next;

  @Test
  void noAcknowledgedWriteIsLostOrReorderedUnderAFaultSchedule() throws Exception {
    RaftProperties p = new RaftProperties();
    // production election timeouts: faults must play out against the real timing
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
    // snapshots every few entries, so that a restarted node starts from one
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, 20);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    MiniRaftClusterWithSimulatedRpc cluster = MiniRaftClusterWithSimulatedRpc.FACTORY.newCluster(3, p);
    cluster.setStateMachineRegistry(group -> new RatisStateMachine(new StateMachine()));
    try {
      cluster.start();
      RaftClient client = cluster.createClient(RetryPolicies.retryUpToMaximumCountWithFixedSleep(20,
          TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)));
      try (client) {
        write(client, 20);

        // 1. the leader is cut off: nothing reaches it, nothing leaves it; a new leader takes over
        String leader = leader(cluster);
        partition(cluster, leader, true);
        write(client, 20);
        partition(cluster, leader, false);

        // 2. a follower stalls (a long GC pause): the others carry on, it catches up afterwards
        String stalled = follower(cluster);
        BlockRequestHandlingInjection.getInstance().blockReplier(stalled);
        write(client, 20);
        BlockRequestHandlingInjection.getInstance().unblockReplier(stalled);

        // 3. the leader dies, the others carry on; it restarts from its snapshot and log
        String killed = leader(cluster);
        cluster.killServer(RaftPeerId.valueOf(killed));
        write(client, 20);
        cluster.restartServer(RaftPeerId.valueOf(killed), false);
        write(client, 10);
      }
      check(cluster);
    } finally {
      BlockRequestHandlingInjection.getInstance().unblockAll();
      cluster.shutdown();
    }
  }

  private void write(RaftClient client, int count) {
    for (int n = 0; n < count; n++) {
      String id = "i" + next++;
      Command c = Command.newBuilder().setTimeMs(1000L + next).setRegisterInstance(RegisterInstance.newBuilder()
          .setInstance(Instance.newBuilder().setNamespace("default").setService("svc").setId(id).setHost("10.0.0.1")
              .setPort(80).setEphemeral(false))).build();
      Message m = Message.valueOf(ByteString.copyFrom(CommandBatch.newBuilder().addCommands(c).build().toByteArray()));
      try {
        RaftClientReply r = client.io().send(m);
        if (r.isSuccess()) {
          BatchOutcome o = BatchOutcome.parseFrom(r.getMessage().getContent().asReadOnlyByteBuffer());
          history.add(new Op(id, true, o.getOutcomes(0).getResult().getInstance().getRevision()));
          continue;
        }
      } catch (Exception e) {
        // not acknowledged: it may or may not have been made
      }
      history.add(new Op(id, false, 0));
    }
  }

  /** The checker: holds the recorded history against the replicas' final states. */
  private void check(MiniRaftClusterWithSimulatedRpc cluster) {
    List<Op> acknowledged = history.stream().filter(Op::acknowledged).toList();
    assertThat(acknowledged).as("the schedule leaves room for writes").hasSizeGreaterThan(history.size() / 2);
    // revisions grow in acknowledgement order (one sequential client: the real-time order)
    for (int i = 1; i < acknowledged.size(); i++) {
      assertThat(acknowledged.get(i).revision()).as("revision of %s after %s", acknowledged.get(i).id(),
          acknowledged.get(i - 1).id()).isGreaterThan(acknowledged.get(i - 1).revision());
    }
    // every replica converges on one state that holds every acknowledged write at its revision
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      Set<com.google.protobuf.ByteString> states = new HashSet<>();
      for (RaftServer.Division d : cluster.iterateDivisions()) {
        states.add(((RatisStateMachine) d.getStateMachine()).exportState().getState());
      }
      assertThat(states).hasSize(1);
      StateSnapshot state = StateSnapshot.parseFrom(states.iterator().next());
      Map<String, Long> stored = new HashMap<>();
      state.getRegistry().getInstancesList().forEach(i -> stored.put(i.getId(), i.getRevision()));
      for (Op op : acknowledged) {
        assertThat(stored).as("acknowledged %s", op.id()).containsEntry(op.id(), op.revision());
      }
      // nothing appears that the client never wrote
      assertThat(history.stream().map(Op::id).toList()).containsAll(stored.keySet());
    });
  }

  private static String leader(MiniRaftClusterWithSimulatedRpc cluster) {
    String[] id = new String[1];
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      id[0] = cluster.getLeader().getId().toString();
      return true;
    });
    return id[0];
  }

  private static String follower(MiniRaftClusterWithSimulatedRpc cluster) {
    return cluster.getFollowers().get(0).getId().toString();
  }

  private static void partition(MiniRaftClusterWithSimulatedRpc cluster, String id, boolean cut) {
    cluster.setBlockRequestsFrom(id, cut);
    if (cut) {
      BlockRequestHandlingInjection.getInstance().blockReplier(id);
    } else {
      BlockRequestHandlingInjection.getInstance().unblockReplier(id);
    }
  }
}
