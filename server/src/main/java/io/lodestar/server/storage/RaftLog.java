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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
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
 * applied that entry itself, so a client reads its own write from the node it wrote to; the
 * futures complete on {@code lodestar-ack}, never on a Ratis thread.
 *
 * <p>Without a majority a write fails UNAVAILABLE within {@link #WRITE_TIMEOUT_MILLIS}. The Ratis
 * client gives up on its own after its retries and then refuses every later request, so a failed
 * replication replaces it: the node writes again as soon as a majority is back, with no restart.
 */
public final class RaftLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(RaftLog.class);
  /** The one Raft group of a Lodestar cluster. */
  public static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("lodestar".getBytes(StandardCharsets.UTF_8)));
  private static final int MAX_BATCH = 4096;
  private static final int MAX_BATCH_BYTES = 1 << 20;
  private static final int MAX_IN_FLIGHT = 16;
  /**
   * How long a write may wait for a majority before it fails UNAVAILABLE: longer than an election
   * (about 2–3 s), short enough that a client retries elsewhere instead of hanging.
   */
  public static final long WRITE_TIMEOUT_MILLIS = 5000;
  /** A member silent for longer than this is counted as unreachable in {@link #status()}. */
  static final long SILENCE_MILLIS = 3000;
  /** How often the submitting thread looks for a stalled applier itself ({@link ApplyStall}). */
  private static final long STALL_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
  /**
   * At most one step-down by a stalled leader per this period. Its log is as long as anyone's, so
   * the next election may pick it again: it steps down again, soon, as it can serve nothing.
   */
  private static final long HANDOFF_NANOS = TimeUnit.SECONDS.toNanos(3);
  /** How long a stop waits for Ratis' server to stop ({@link #closeServer()}). */
  static final long CLOSE_MILLIS = 20_000;
  /** The largest Raft entry: a restore carries the whole state. */
  public static final long MAX_ENTRY_BYTES = 32L << 20;

  private final ClusterConfig config;
  private final Path dir;
  private final StateMachine stateMachine;
  private final RatisStateMachine adapter;
  private final int snapshotEvery;
  private final long segmentBytes;
  private final BlockingQueue<Pending> queue;
  private final WriteAdmission admission;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final Thread submitter;
  private final Timer commitTimer;
  private final DistributionSummary batchSize;
  private final RaftCluster cluster = new RaftCluster(this);
  // completes the futures, so that nothing chained onto them runs on a Ratis thread
  private final java.util.concurrent.ExecutorService acks = java.util.concurrent.Executors.newSingleThreadExecutor(
      r -> {
        Thread t = new Thread(r, "lodestar-ack");
        t.setDaemon(true);
        return t;
      });
  private List<RaftPeer> peers;
  private RaftServer server;
  private volatile RaftClient client;
  /** Replaced clients, closed once what was sent through them has been answered. */
  private final Set<RaftClient> retired = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean running;
  private volatile ApplyStall stall = new ApplyStall(ApplyStall.STALL_NANOS);
  private volatile long closeMillis = CLOSE_MILLIS;
  /** Open while Ratis' server is not stopped: before a stop, or after one that went on without it. */
  private final java.util.concurrent.CountDownLatch serverClosed = new java.util.concurrent.CountDownLatch(1);
  private final java.util.concurrent.atomic.AtomicLong lastHandOff = new java.util.concurrent.atomic.AtomicLong(
      System.nanoTime() - HANDOFF_NANOS);

  private record Pending(Command command, CompletableFuture<CommandResult> future) {}

  /** How this node's Raft server and clients reach the other members (gRPC in production). */
  private final RaftTransport transport;

  /**
   * @param transport how Raft traffic travels: {@link RaftTransport#grpc} on a node (mutual TLS
   *     under {@code --tls-client-ca}); tests plug in Ratis' simulated RPC
   */
  public RaftLog(ClusterConfig config, Path dir, StateMachine stateMachine, int snapshotEvery, long segmentBytes,
      MeterRegistry meters, RaftTransport transport) {
    this(config, dir, stateMachine, snapshotEvery, segmentBytes, LocalLog.DEFAULT_WRITE_QUEUE, meters, transport);
  }

  /** @param writeQueue how many writes may wait to be sent (see {@link WriteAdmission}) */
  public RaftLog(ClusterConfig config, Path dir, StateMachine stateMachine, int snapshotEvery, long segmentBytes,
      int writeQueue, MeterRegistry meters, RaftTransport transport) {
    this.transport = transport;
    this.config = config;
    this.dir = dir;
    this.stateMachine = stateMachine;
    this.adapter = new RatisStateMachine(stateMachine);
    this.snapshotEvery = snapshotEvery;
    this.segmentBytes = segmentBytes;
    this.queue = new ArrayBlockingQueue<>(writeQueue);
    this.admission = new WriteAdmission(writeQueue, meters);
    this.submitter = new Thread(this::runSubmitter, "lodestar-raft-submit");
    this.commitTimer = Timer.builder("lodestar.raft.commit").description("time from sending a batch to its commit")
        .register(meters);
    this.batchSize = DistributionSummary.builder("lodestar.raft.batch.size")
        .description("commands per Raft entry").register(meters);
    meters.gauge("lodestar.raft.applied.index", adapter, RatisStateMachine::appliedIndex);
    // beside the applied index: a node whose commit index moves while its applied index does not
    // has stopped applying (seen once: Ratis 3.3 after a snapshot install racing a step-down)
    meters.gauge("lodestar.raft.commit.index", this, RaftLog::commitIndex);
    meters.gauge("lodestar.raft.apply.stalled", this, r -> r.applyStall() == null ? 0 : 1);
    meters.gauge("lodestar.log.queued", queue, BlockingQueue::size);
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

  /** How this node's Raft traffic travels, for every client it builds (the admin client too). */
  RaftTransport transport() {
    return transport;
  }

  /** Starts this node's Ratis server (replaying its log) and the client it writes through. */
  @Override
  public void open() throws IOException {
    OwnerOnly.createDirectories(dir);
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    // Election timeouts well above a GC pause on a busy machine: no flapping; a new leader in ~2 s.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotEvery);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    // A follower appends what the leader sends before it answers, as Raft says. Ratis 3.3's
    // composed appends (its default) let a heartbeat pass on entries still being appended and
    // raise the commit index at once: a former leader then applied the uncommitted tail of its
    // old term that those entries were about to replace, and its state diverged from the
    // others' (SimulatedClusterTest's checker caught it), or its applier spun on an index it
    // never received and the node could not stop.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, Math.max(1, Math.min(1024, snapshotEvery)));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(segmentBytes));
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(segmentBytes, 4L << 20)));
    // a restore entry carries the whole state: let entries and messages up to 32 MiB through
    // (the log's write buffer, allocated once per node, must hold the largest entry)
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES));
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES + (64 << 10)));
    RaftServerConfigKeys.Write.setByteLimit(p, SizeInBytes.valueOf(2L * MAX_ENTRY_BYTES));
    transport.settings().accept(p); // the RPC, its address and message size

    peers = config.members().stream().map(RaftLog::peer).toList();
    boolean existing = Files.isDirectory(dir.resolve(GROUP_ID.getUuid().toString()));
    // A joining node starts with no configuration and waits for the leader to add it.
    RaftGroup group = existing || config.join() ? RaftGroup.valueOf(GROUP_ID) : RaftGroup.valueOf(GROUP_ID, peers);
    server = RaftServer.newBuilder().setServerId(RaftPeerId.valueOf(config.nodeId())).setGroup(group)
        .setStateMachine(adapter).setProperties(p).setParameters(transport.parameters())
        .setOption(existing ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT).build();
    server.start();

    client = newClient(null);
    running = true;
    submitter.setDaemon(true);
    submitter.start();
    log.info("Raft node {} started ({}), members {}{}", config.nodeId(), transport.description(),
        config.members().stream().map(ClusterConfig.Member::id).toList(), config.join() ? ", joining" : "");
  }

  /**
   * The client this node writes through, aimed first at {@code leader} (null: Ratis' own guess).
   * It finds the leader and waits out an election; its retries end soon after
   * {@link #WRITE_TIMEOUT_MILLIS}, so a request does not outlive its caller by much.
   */
  private RaftClient newClient(RaftPeerId leader) {
    RaftProperties cp = transport.clientProperties();
    org.apache.ratis.client.RaftClientConfigKeys.Rpc.setRequestTimeout(cp, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    RaftClient.Builder b = RaftClient.newBuilder().setProperties(cp).setParameters(transport.parameters()).setRaftGroup(RaftGroup.valueOf(GROUP_ID, peers))
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(20,
            TimeDuration.valueOf(250, TimeUnit.MILLISECONDS)));
    if (leader != null) {
      b.setLeaderId(leader);
    }
    return b.build();
  }

  /**
   * The client to send the next entry through. Ratis' client learns of a new leader only when a
   * request to the old one fails: a leader that froze (a GC pause, SIGSTOP, a partition) costs
   * each request a full request timeout before the client tries another member, which with the
   * retry after it does not fit in {@link #WRITE_TIMEOUT_MILLIS}. This node's Raft server hears of
   * a new leader as soon as it is elected, so when it knows one for sure (it is the leader, or
   * heard from the leader lately) and the client aims elsewhere, writes move to a client aimed
   * at that leader. The old one finishes what it has in flight and is closed later.
   */
  private RaftClient current() {
    RaftClient c = client;
    RaftPeerId leader = knownLeader();
    if (leader != null && !leader.equals(c.getLeaderId())) {
      replaceClient(c, leader, "the leader is now " + leader);
      c = client;
    }
    return c;
  }

  /** The leader as this node's Raft server knows it for sure, or null while that is unclear. */
  private RaftPeerId knownLeader() {
    try {
      RaftServer.Division d = division();
      if (d.getInfo().isLeader()) {
        return d.getId();
      }
      if (heardFromLeaderLately(d.getInfo().getRoleInfoProto())) {
        return d.getInfo().getLeaderId();
      }
    } catch (RuntimeException e) {
      // the Raft server is not running: keep the client as it is; the write fails on its own
    }
    return null;
  }

  /**
   * Writes go through a new client from now on: after a failed replication (the Ratis client may
   * have given up for good, and then answers every request "closed") or when the leader moved.
   * Only the client being replaced is replaced, once. It is closed once every write sent through
   * it has been answered (each within {@link #WRITE_TIMEOUT_MILLIS}), so nothing in flight on it
   * is cut short.
   */
  private synchronized void replaceClient(RaftClient old, RaftPeerId leader, String why) {
    if (client != old || !running) {
      return;
    }
    client = newClient(leader != null ? leader : knownLeader());
    retired.add(old);
    CompletableFuture.runAsync(() -> closeRetired(old),
        CompletableFuture.delayedExecutor(WRITE_TIMEOUT_MILLIS + 1000, TimeUnit.MILLISECONDS));
    log.info("Raft: writes now go through a new client ({})", why);
  }

  private void closeRetired(RaftClient old) {
    if (retired.remove(old)) {
      try {
        old.close();
      } catch (IOException | RuntimeException e) {
        log.debug("Closing a replaced Raft client: {}", e.toString());
      }
    }
  }

  /** The state's feature level ({@link StateMachine#featureLevel}): how a restore travels. */
  int stateFeatureLevel() {
    return stateMachine.featureLevel();
  }

  @Override
  public CompletableFuture<CommandResult> submit(Command command) {
    CompletableFuture<CommandResult> f = new CompletableFuture<>();
    try {
      StateMachine.validate(command);
      stateMachine.admit(command);
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
    LodestarException refused = admission.refusal(stamped, queue.size());
    if (refused != null) {
      f.completeExceptionally(refused);
    } else if (!queue.offer(new Pending(stamped, f))) {
      f.completeExceptionally(admission.full());
    }
    return f;
  }

  /**
   * Completes once this node has applied everything the leader had committed when it was called:
   * an empty entry goes through the log, and the node waits until it applied it.
   */
  @Override
  public CompletableFuture<Void> barrier() {
    CompletableFuture<Void> out = new CompletableFuture<>();
    send(CommandBatch.getDefaultInstance()).thenCompose(reply -> adapter.whenApplied(reply.getLogIndex()))
        .whenCompleteAsync((v, err) -> {
          if (err == null) {
            out.complete(null);
          } else {
            out.completeExceptionally(err instanceof LodestarException || err.getCause() instanceof LodestarException
                ? unwrap(err) : NO_MAJORITY);
          }
        }, acks);
    return out;
  }

  private static LodestarException unavailable(String message) {
    return new LodestarException(LodestarException.Code.UNAVAILABLE, message, null);
  }

  /** What a client sees when the write could not be replicated: no Ratis ids, no request dumps. */
  private static final LodestarException NO_MAJORITY = unavailable("the cluster has no reachable majority: the write "
      + "was not confirmed within " + WRITE_TIMEOUT_MILLIS / 1000 + " s and may not have been made; retry later");

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  /**
   * Sends one entry; fails within {@link #WRITE_TIMEOUT_MILLIS}. A failure other than a timeout
   * replaces the client, so that the next write has a working one.
   */
  private CompletableFuture<RaftClientReply> send(CommandBatch batch) {
    RaftClient c = current();
    CompletableFuture<RaftClientReply> sent;
    try {
      sent = c.async().send(Message.valueOf(ByteString.copyFrom(batch.toByteArray())));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    return sent.thenApply(reply -> {
      if (!reply.isSuccess()) {
        throw new java.util.concurrent.CompletionException(reply.getException());
      }
      return reply;
    }).orTimeout(WRITE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).whenComplete((r, err) -> {
      if (err != null && !(unwrap(err) instanceof java.util.concurrent.TimeoutException)) {
        replaceClient(c, null, "replication failed: " + unwrap(err).getClass().getSimpleName());
      }
    });
  }

  // ------------------------------------------------------------------ submitting thread

  private void runSubmitter() {
    List<Pending> batch = new ArrayList<>();
    long checked = System.nanoTime();
    while (running || !queue.isEmpty()) {
      batch.clear();
      if (System.nanoTime() - checked > STALL_CHECK_NANOS) {
        checked = System.nanoTime();
        applyStall(); // noticed (and logged, and a stalled leader hands off) even with nobody asking
      }
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
      send(b.build()).whenComplete((r, err) -> {
        inFlight.release();
        commitTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        if (err != null) {
          log.warn("Replicating {} command(s) failed: {}", sent.size(), unwrap(err).toString());
          acks.execute(() -> sent.forEach(s -> s.future.completeExceptionally(NO_MAJORITY)));
          return;
        }
        BatchOutcome outcome;
        try {
          outcome = BatchOutcome.parseFrom(r.getMessage().getContent().asReadOnlyByteBuffer());
        } catch (IOException e) {
          acks.execute(() -> sent.forEach(s -> s.future.completeExceptionally(e)));
          return;
        }
        // Read your writes: answer once this node has applied the entry itself, as the docs say.
        // Committed entries always reach the applier; if this node stops first, the waiters fail.
        adapter.whenApplied(r.getLogIndex()).whenCompleteAsync((v, e2) -> {
          if (e2 != null) {
            sent.forEach(s -> s.future.completeExceptionally(unwrap(e2)));
          } else {
            complete(sent, outcome);
          }
        }, acks);
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

  /**
   * Turns the wire form of a rejection back into the exception the state machine threw. Only
   * refusals are ever written (an unexpected failure stops the node instead of becoming a
   * rejection); an unknown code, from a newer member, reads as a refusal.
   */
  static LodestarException toException(Rejection r) {
    // the enum since it exists; the name string from a node older than that
    LodestarException.Code code = LodestarException.Code.of(r.getErrorCode());
    if (code == null) {
      try {
        code = LodestarException.Code.valueOf(r.getCode());
      } catch (IllegalArgumentException e) {
        code = LodestarException.Code.FAILED_PRECONDITION; // from a newer member: a refusal
      }
    }
    return new LodestarException(code, r.getMessage(), r.getField().isEmpty() ? null : r.getField());
  }

  // ------------------------------------------------------------------ cluster state

  public String nodeId() {
    return config.nodeId();
  }


  /** The highest index this node knows committed (0 before it has started). */
  public long commitIndex() {
    return server == null ? 0 : division().getRaftLog().getLastCommittedIndex();
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

  /** Forces a Raft snapshot now (tests and operators). */
  @Override
  public void snapshot() {
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
    List.copyOf(retired).forEach(this::closeRetired);
    closeServer();
    adapter.failWaiters(unavailable("server is shutting down"));
    acks.shutdown();
    try {
      acks.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("Raft node {} stopped at applied index {}", config.nodeId(), adapter.appliedIndex());
  }

  /**
   * Stops Ratis' server, waiting at most {@link #CLOSE_MILLIS}. Ratis 3.3's stop waits until its
   * applier reaches the commit index, which a member that stopped applying ({@link ApplyStall})
   * never does: a node's stop (and a test's) then hung for good. Past the bound the stop goes on
   * without it; the process exits, and what the server applied is on disk already.
   */
  private void closeServer() {
    Thread closer = new Thread(() -> {
      try {
        server.close();
      } catch (IOException e) {
        log.warn("Closing the Raft server: {}", e.toString());
      } finally {
        serverClosed.countDown();
      }
    }, "lodestar-raft-close");
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(closeMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      log.error("Raft node {}: the Raft server did not stop within {} s (applied index {}); stopping without it",
          config.nodeId(), closeMillis / 1000.0, adapter.appliedIndex());
    }
  }

  /**
   * UP while a majority answers; DEGRADED (reads served, writes fail fast) while this node cannot
   * reach one: as a leader, too few followers answered lately; as a follower, the leader is silent;
   * or no leader is known. DOWN once applying an entry failed and the Raft server stopped.
   */
  @Override
  public LogStatus status() {
    String halted = adapter.halted();
    if (halted != null) {
      return LogStatus.down(halted);
    }
    if (!running) {
      return LogStatus.down("stopped");
    }
    String stalled = applyStall();
    if (stalled != null) {
      return LogStatus.down(stalled);
    }
    RoleInfoProto info;
    try {
      info = division().getInfo().getRoleInfoProto();
    } catch (RuntimeException e) {
      return LogStatus.down("the Raft server is not running");
    }
    int members = division().getRaftConf().getCurrentPeers().size();
    int majority = members / 2 + 1;
    if (info.hasLeaderInfo()) {
      int answering = 1; // itself
      for (ServerRpcProto f : info.getLeaderInfo().getFollowerInfoList()) {
        if (f.getLastRpcElapsedTimeMs() < SILENCE_MILLIS) {
          answering++;
        }
      }
      return answering >= majority ? LogStatus.UP : LogStatus.degraded("no majority: as leader, " + answering + " of "
          + members + " members answered within " + SILENCE_MILLIS / 1000 + " s; writes fail until a majority is back");
    }
    if (heardFromLeaderLately(info)) {
      return LogStatus.UP;
    }
    return LogStatus.degraded("no majority: no leader reachable from this node; writes fail until a majority is back");
  }

  /**
   * As a follower, whether this node heard from the leader within {@link #SILENCE_MILLIS}. A
   * follower that knows no leader (after an election it could not win) reports an empty leader
   * with no silence at all: that is no leader heard from.
   */
  private static boolean heardFromLeaderLately(RoleInfoProto info) {
    if (!info.hasFollowerInfo() || !info.getFollowerInfo().hasLeaderInfo()) {
      return false;
    }
    ServerRpcProto leader = info.getFollowerInfo().getLeaderInfo();
    return !leader.getId().getId().isEmpty() && leader.getLastRpcElapsedTimeMs() < SILENCE_MILLIS;
  }

  /**
   * Tests, before {@link #open()}: how long the applied index stays put before the log is checked
   * for a gap ({@link ApplyStall#STALL_NANOS} on a node), and how long a stop waits for Ratis'
   * server ({@link #CLOSE_MILLIS}).
   */
  void bounds(java.time.Duration stallAfter, java.time.Duration closeWithin) {
    stall = new ApplyStall(stallAfter.toNanos());
    closeMillis = closeWithin.toMillis();
  }

  /**
   * Whether Ratis' server has stopped: false before a stop, and after one that went on without it
   * until the server's own stop ends (if ever).
   */
  boolean serverStopped() {
    return serverClosed.getCount() == 0;
  }

  /**
   * Why this member has stopped applying for good, or null ({@link ApplyStall}). A stalled member
   * that leads steps down (every {@link #HANDOFF_NANOS} while it leads): as leader it could neither
   * apply nor answer a write, and a follower that needed what its log lacks would get its old
   * snapshot.
   */
  String applyStall() {
    if (server == null) {
      return null;
    }
    org.apache.ratis.server.raftlog.RaftLog raftLog;
    try {
      raftLog = division().getRaftLog();
    } catch (RuntimeException e) {
      return null; // not running: status() says so
    }
    String stalled = stall.check(adapter.appliedIndex(), raftLog.getLastCommittedIndex(), System.nanoTime(),
        i -> raftLog.getTermIndex(i) != null);
    if (stalled != null && running && isLeader()) {
      handOff();
    }
    return stalled;
  }

  private void handOff() {
    long last = lastHandOff.get();
    long now = System.nanoTime();
    if (now - last < HANDOFF_NANOS || !lastHandOff.compareAndSet(last, now)) {
      return;
    }
    // A step-down, not a transfer: Ratis serves a transfer only from a leader that has applied its
    // term's first entry, which a stalled one never does; the next election picks among all. Sent
    // straight to this node's server: a client's request could queue behind unanswered writes.
    log.warn("Raft node {}: has stopped applying while leading; stepping down", config.nodeId());
    try {
      server.transferLeadershipAsync(new org.apache.ratis.protocol.TransferLeadershipRequest(
          org.apache.ratis.protocol.ClientId.randomId(), RaftPeerId.valueOf(config.nodeId()), GROUP_ID, 0, null,
          10_000)).whenComplete((r, err) -> {
            if (err != null || !r.isSuccess()) {
              log.warn("Raft: stepping down failed: {}", err != null ? err.toString() : r.getException());
            }
          });
    } catch (IOException | RuntimeException e) {
      log.warn("Raft: stepping down failed: {}", e.toString());
    }
  }

  /** Tests: asks the leader to hand leadership to {@code id}; whether it did within 10 s. */
  boolean transferLeadership(String id) {
    try {
      RaftClientReply r = client.admin().transferLeadership(RaftPeerId.valueOf(id), 10_000);
      if (!r.isSuccess()) {
        log.warn("Raft: handing leadership to {} failed: {}", id, r.getException());
      }
      return r.isSuccess();
    } catch (IOException | RuntimeException e) {
      log.warn("Raft: handing leadership to {} failed: {}", id, e.toString());
      return false;
    }
  }

  /** Membership, backup and restore, and lease-holder liveness: administration of this node's cluster. */
  public RaftCluster cluster() {
    return cluster;
  }

  RaftServer.Division division() {
    try {
      return server.getDivision(GROUP_ID);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  RatisStateMachine adapter() {
    return adapter;
  }

  /** Sends one entry through the log (package-private for {@link RaftCluster#restore}). */
  CompletableFuture<RaftClientReply> replicate(CommandBatch batch) {
    return send(batch);
  }

  static RaftPeer toPeer(ClusterConfig.Member m) {
    return peer(m);
  }
}
