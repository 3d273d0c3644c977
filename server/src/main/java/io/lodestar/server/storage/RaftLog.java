package io.lodestar.server.storage;

import io.lodestar.api.v1.state.BatchOutcome;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandBatch;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.Outcome;
import io.lodestar.api.v1.state.Rejection;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's {@link CommandLog}: an Apache Ratis group replicates every command.
 *
 * <p>Any node accepts writes. A submitting thread drains queued commands into one
 * {@link CommandBatch} per Raft entry (group commit across the cluster) and sends it with the
 * asynchronous Ratis client, which finds the leader and retries there (the retry cache keeps a
 * retried entry from being applied twice); several batches are in flight at once. The reply
 * carries one outcome per command. Before completing the futures the node waits until it has
 * applied that entry itself, so a client reads its own write from the node it wrote to.
 */
public final class RaftLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(RaftLog.class);
  /** The one Raft group of a Lodestar cluster. */
  public static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("lodestar".getBytes(StandardCharsets.UTF_8)));
  private static final int MAX_BATCH = 4096;
  private static final int MAX_BATCH_BYTES = 1 << 20;
  private static final int MAX_IN_FLIGHT = 16;
  /** The largest Raft entry: a restore carries the whole state. */
  public static final long MAX_ENTRY_BYTES = 32L << 20;

  /** One member as this node sees it. */
  public record Peer(String id, String clientAddress, String raftAddress) {}

  private final ClusterConfig config;
  private final Path dir;
  private final StateMachine stateMachine;
  private final RatisStateMachine adapter;
  private final int snapshotEvery;
  private final long segmentBytes;
  private final BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(200_000);
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final Thread submitter;
  private final Timer commitTimer;
  private final DistributionSummary batchSize;
  private RaftServer server;
  private RaftClient client;
  private volatile boolean running;

  private record Pending(Command command, CompletableFuture<CommandResult> future) {}

  public RaftLog(ClusterConfig config, Path dir, StateMachine stateMachine, int snapshotEvery, long segmentBytes,
      MeterRegistry meters) {
    this.config = config;
    this.dir = dir;
    this.stateMachine = stateMachine;
    this.adapter = new RatisStateMachine(stateMachine);
    this.snapshotEvery = snapshotEvery;
    this.segmentBytes = segmentBytes;
    this.submitter = new Thread(this::runSubmitter, "lodestar-raft-submit");
    this.commitTimer = Timer.builder("lodestar.raft.commit").description("time from sending a batch to its commit")
        .register(meters);
    this.batchSize = DistributionSummary.builder("lodestar.raft.batch.size")
        .description("commands per Raft entry").register(meters);
    meters.gauge("lodestar.raft.applied.index", adapter, RatisStateMachine::appliedIndex);
    meters.gauge("lodestar.raft.term", this, RaftLog::term);
    meters.gauge("lodestar.raft.leader", this, r -> r.isLeader() ? 1 : 0);
  }

  /**
   * A member as Ratis records it in the replicated configuration. Ratis sends its client and admin
   * calls to the client and admin addresses, so those stay the Raft port; Lodestar's own client
   * address (gRPC and REST) rides in the data-stream address, which Lodestar does not use.
   */
  private static RaftPeer peer(ClusterConfig.Member m) {
    return RaftPeer.newBuilder().setId(m.id()).setAddress(m.raftAddress()).setDataStreamAddress(m.clientAddress())
        .build();
  }

  /** Starts this node's Ratis server (replaying its log) and the client it writes through. */
  public void open() throws IOException {
    Files.createDirectories(dir);
    ClusterConfig.Member self = config.self();
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    GrpcConfigKeys.Server.setHost(p, self.host());
    GrpcConfigKeys.Server.setPort(p, self.raftPort());
    // Election timeouts well above a GC pause on a busy machine: no flapping; a new leader in ~2 s.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotEvery);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, Math.max(1, Math.min(1024, snapshotEvery)));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(segmentBytes));
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(segmentBytes, 4L << 20)));
    // a restore entry carries the whole state: let entries and messages up to 32 MiB through
    // (the log's write buffer, allocated once per node, must hold the largest entry)
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES));
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES + (64 << 10)));
    RaftServerConfigKeys.Write.setByteLimit(p, SizeInBytes.valueOf(2L * MAX_ENTRY_BYTES));
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES + (1 << 20)));

    List<RaftPeer> peers = config.members().stream().map(RaftLog::peer).toList();
    boolean existing = Files.isDirectory(dir.resolve(GROUP_ID.getUuid().toString()));
    // A joining node starts with no configuration and waits for the leader to add it.
    RaftGroup group = existing || config.join() ? RaftGroup.valueOf(GROUP_ID) : RaftGroup.valueOf(GROUP_ID, peers);
    server = RaftServer.newBuilder().setServerId(RaftPeerId.valueOf(config.nodeId())).setGroup(group)
        .setStateMachine(adapter).setProperties(p)
        .setOption(existing ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT).build();
    server.start();

    RaftProperties cp = new RaftProperties();
    GrpcConfigKeys.setMessageSizeMax(cp, SizeInBytes.valueOf(MAX_ENTRY_BYTES + (1 << 20)));
    org.apache.ratis.client.RaftClientConfigKeys.Rpc.setRequestTimeout(cp, TimeDuration.valueOf(5, TimeUnit.SECONDS));
    client = RaftClient.newBuilder().setProperties(cp).setRaftGroup(RaftGroup.valueOf(GROUP_ID, peers))
        // a write waits out an election, then fails UNAVAILABLE
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(100,
            TimeDuration.valueOf(150, TimeUnit.MILLISECONDS)))
        .build();
    running = true;
    submitter.setDaemon(true);
    submitter.start();
    log.info("Raft node {} started (raft {}), members {}{}", config.nodeId(), self.raftAddress(),
        config.members().stream().map(ClusterConfig.Member::id).toList(), config.join() ? ", joining" : "");
  }

  @Override
  public CompletableFuture<CommandResult> submit(Command command) {
    CompletableFuture<CommandResult> f = new CompletableFuture<>();
    try {
      StateMachine.validate(command);
    } catch (LodestarException e) {
      f.completeExceptionally(e);
      return f;
    }
    if (!running) {
      f.completeExceptionally(unavailable("server is shutting down"));
      return f;
    }
    Command stamped = command.getTimeMs() != 0 ? command
        : command.toBuilder().setTimeMs(System.currentTimeMillis()).build();
    if (!queue.offer(new Pending(stamped, f))) {
      f.completeExceptionally(unavailable("write queue is full; retry later"));
    }
    return f;
  }

  /**
   * Completes once this node has applied everything the leader had committed when it was called:
   * an empty entry goes through the log, and the node waits until it applied it.
   */
  @Override
  public CompletableFuture<Void> barrier() {
    return send(CommandBatch.getDefaultInstance()).thenCompose(reply -> adapter.whenApplied(reply.getLogIndex()));
  }

  private static LodestarException unavailable(String message) {
    return new LodestarException(LodestarException.Code.UNAVAILABLE, message, null);
  }

  private CompletableFuture<RaftClientReply> send(CommandBatch batch) {
    return client.async().send(Message.valueOf(ByteString.copyFrom(batch.toByteArray()))).thenApply(reply -> {
      if (!reply.isSuccess()) {
        throw new java.util.concurrent.CompletionException(reply.getException());
      }
      return reply;
    });
  }

  // ------------------------------------------------------------------ submitting thread

  private void runSubmitter() {
    List<Pending> batch = new ArrayList<>();
    while (running || !queue.isEmpty()) {
      batch.clear();
      try {
        Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        inFlight.acquire(); // while all slots are busy, more commands queue up for the next batch
      } catch (InterruptedException e) {
        batch.forEach(p -> p.future.completeExceptionally(unavailable("server is shutting down")));
        if (!running) {
          break;
        }
        continue;
      }
      CommandBatch.Builder b = CommandBatch.newBuilder().addCommands(batch.get(0).command);
      int bytes = batch.get(0).command.getSerializedSize();
      Pending next;
      while (batch.size() < MAX_BATCH && bytes < MAX_BATCH_BYTES && (next = queue.poll()) != null) {
        batch.add(next);
        b.addCommands(next.command);
        bytes += next.command.getSerializedSize();
      }
      List<Pending> sent = List.copyOf(batch);
      batchSize.record(sent.size());
      long t0 = System.nanoTime();
      CompletableFuture<RaftClientReply> reply;
      try {
        reply = send(b.build());
      } catch (RuntimeException e) {
        reply = CompletableFuture.failedFuture(e);
      }
      reply.whenComplete((r, err) -> {
        inFlight.release();
        commitTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        if (err != null) {
          Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
              ? err.getCause() : err;
          log.warn("Replicating {} command(s) failed: {}", sent.size(), c.toString());
          LodestarException e = unavailable("no leader reachable to replicate the write: " + c.getMessage());
          sent.forEach(s -> s.future.completeExceptionally(e));
          return;
        }
        BatchOutcome outcome;
        try {
          outcome = BatchOutcome.parseFrom(r.getMessage().getContent().asReadOnlyByteBuffer());
        } catch (IOException e) {
          sent.forEach(s -> s.future.completeExceptionally(e));
          return;
        }
        // read-your-writes on this node; the write is committed either way, so do not wait forever
        adapter.whenApplied(r.getLogIndex()).completeOnTimeout(null, 10, TimeUnit.SECONDS)
            .whenComplete((v, e2) -> complete(sent, outcome));
      });
    }
    for (Pending p; (p = queue.poll()) != null; ) {
      p.future.completeExceptionally(unavailable("server is shutting down"));
    }
  }

  private static void complete(List<Pending> sent, BatchOutcome outcome) {
    for (int i = 0; i < sent.size(); i++) {
      CompletableFuture<CommandResult> f = sent.get(i).future;
      if (i >= outcome.getOutcomesCount()) {
        f.completeExceptionally(new IllegalStateException("no outcome for command " + i));
        continue;
      }
      Outcome o = outcome.getOutcomes(i);
      if (o.hasRejection()) {
        f.completeExceptionally(toException(o.getRejection()));
      } else {
        f.complete(o.getResult());
      }
    }
  }

  /** Turns the wire form of a rejection back into the exception the state machine threw. */
  static RuntimeException toException(Rejection r) {
    // the enum since it exists; the name string from a node older than that
    LodestarException.Code code = LodestarException.Code.of(r.getErrorCode());
    if (code == null) {
      try {
        code = LodestarException.Code.valueOf(r.getCode());
      } catch (IllegalArgumentException e) {
        return new IllegalStateException(r.getMessage());
      }
    }
    return new LodestarException(code, r.getMessage(), r.getField().isEmpty() ? null : r.getField());
  }

  // ------------------------------------------------------------------ cluster state

  public String nodeId() {
    return config.nodeId();
  }

  private RaftServer.Division division() {
    try {
      return server.getDivision(GROUP_ID);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public long term() {
    return server == null ? 0 : division().getInfo().getCurrentTerm();
  }

  public boolean isLeader() {
    return server != null && division().getInfo().isLeader();
  }

  /** Whether this node is the leader and has committed an entry of its term (can serve writes). */
  public boolean isLeaderReady() {
    return server != null && division().getInfo().isLeaderReady();
  }

  /** The leader's id, or null while there is none known. */
  public String leaderId() {
    RaftPeerId id = division().getInfo().getLeaderId();
    return id == null ? null : id.toString();
  }

  public String role() {
    RaftPeerRole r = division().getInfo().getCurrentRole();
    return r.name().toLowerCase(java.util.Locale.ROOT);
  }

  public long appliedIndex() {
    return adapter.appliedIndex();
  }

  /** The voting members of the current configuration, sorted by id. */
  public List<Peer> members() {
    Collection<RaftPeer> peers = division().getRaftConf().getCurrentPeers();
    return peers.stream().map(p -> new Peer(p.getId().toString(), p.getDataStreamAddress(), p.getAddress()))
        .sorted(java.util.Comparator.comparing(Peer::id)).toList();
  }

  /**
   * On the leader: how long ago each follower last answered, by id. Empty on a follower. A
   * lease holder that has not answered for a while is presumed gone.
   */
  public Map<String, Long> followerSilenceMillis() {
    RoleInfoProto info = division().getInfo().getRoleInfoProto();
    if (!info.hasLeaderInfo()) {
      return Map.of();
    }
    Map<String, Long> out = new java.util.HashMap<>();
    for (ServerRpcProto f : info.getLeaderInfo().getFollowerInfoList()) {
      out.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
    }
    return out;
  }

  /** After this long without answering the leader, a lease holder is presumed gone. */
  static final long HOLDER_GONE_MILLIS = 5000;

  /**
   * Whether a lease holder is alive, as the leader sees it: a current member that answered within
   * {@link #HOLDER_GONE_MILLIS}. An instance with no holder has nobody deciding it: not alive.
   */
  public boolean holderAlive(String holder) {
    if (holder.isEmpty()) {
      return false;
    }
    if (holder.equals(config.nodeId())) {
      return true;
    }
    if (members().stream().noneMatch(p -> p.id().equals(holder))) {
      return false;
    }
    Long silence = followerSilenceMillis().get(holder);
    return silence != null && silence < HOLDER_GONE_MILLIS;
  }

  /** Adds a member (the new node must be running with --join); one at a time. */
  public void addMember(ClusterConfig.Member m) throws IOException {
    List<RaftPeer> next = new ArrayList<>(division().getRaftConf().getCurrentPeers());
    if (next.stream().anyMatch(p -> p.getId().toString().equals(m.id()))) {
      throw new LodestarException(LodestarException.Code.ALREADY_EXISTS, "node " + m.id() + " is already a member", "id");
    }
    next.add(peer(m));
    setConfiguration(next);
  }

  /** Removes a member; one at a time. */
  public void removeMember(String id) throws IOException {
    List<RaftPeer> current = new ArrayList<>(division().getRaftConf().getCurrentPeers());
    List<RaftPeer> next = current.stream().filter(p -> !p.getId().toString().equals(id)).toList();
    if (next.size() == current.size()) {
      throw LodestarException.notFound("node " + id + " is not a member");
    }
    if (next.isEmpty()) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "cannot remove the last member", "id");
    }
    setConfiguration(next);
  }

  private void setConfiguration(List<RaftPeer> peers) throws IOException {
    try (RaftClient admin = RaftClient.newBuilder().setProperties(new RaftProperties())
        .setRaftGroup(RaftGroup.valueOf(GROUP_ID, division().getRaftConf().getCurrentPeers()))
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(50,
            TimeDuration.valueOf(200, TimeUnit.MILLISECONDS))).build()) {
      RaftClientReply reply;
      try {
        reply = admin.admin().setConfiguration(peers);
      } catch (IOException e) {
        throw new LodestarException(LodestarException.Code.UNAVAILABLE, "membership change failed: " + e.getMessage(),
            null);
      }
      if (!reply.isSuccess()) {
        throw new LodestarException(LodestarException.Code.UNAVAILABLE,
            "membership change failed: " + reply.getException(), null);
      }
    }
    log.info("Membership is now {}", peers.stream().map(p -> p.getId().toString()).toList());
  }

  /**
   * Writes a backup of the whole state (a {@code RaftSnapshot} file with its checksum) to
   * {@code file}, atomically; returns the log index it reflects.
   */
  public long backup(Path file) throws IOException {
    io.lodestar.api.v1.state.RaftSnapshot snap = adapter.exportState();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (var out = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
      out.write(java.nio.ByteBuffer.wrap(snap.toByteArray()));
      out.force(true);
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return snap.getIndex();
  }

  /**
   * Replaces the state of the whole cluster with a backup, through the log: every node applies it
   * at the same index. Completes once this node applied it.
   */
  public CompletableFuture<Void> restore(io.lodestar.api.v1.state.StateSnapshot state) {
    return send(CommandBatch.newBuilder().setRestore(state).build())
        .thenCompose(reply -> adapter.whenApplied(reply.getLogIndex()));
  }

  /** Forces a Raft snapshot now (tests and operators). */
  public void snapshotNow() {
    try {
      RaftClientReply r = client.getSnapshotManagementApi(RaftPeerId.valueOf(config.nodeId())).create(true, 30_000);
      if (!r.isSuccess()) {
        log.warn("Snapshot failed: {}", r.getException().toString());
      }
    } catch (IOException e) {
      log.warn("Snapshot failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false;
    submitter.interrupt();
    try {
      submitter.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      client.close();
    } catch (IOException e) {
      log.warn("Closing the Raft client: {}", e.toString());
    }
    try {
      server.close();
    } catch (IOException e) {
      log.warn("Closing the Raft server: {}", e.toString());
    }
    adapter.failWaiters(unavailable("server is shutting down"));
    log.info("Raft node {} stopped at applied index {}", config.nodeId(), adapter.appliedIndex());
  }

  /** The members' client addresses (for SDK Welcome messages). */
  public List<String> memberClientAddresses() {
    return members().stream().map(Peer::clientAddress).toList();
  }
}
