package io.lodestar.server.storage;

import io.lodestar.api.v1.state.BatchOutcome;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandBatch;
import io.lodestar.api.v1.state.Outcome;
import io.lodestar.api.v1.state.RaftSnapshot;
import io.lodestar.api.v1.state.Rejection;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.zip.CRC32C;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thin adapter between Ratis and core's {@link StateMachine}: a log entry is a
 * {@link CommandBatch}; applying it applies each command in order, flushes once, and answers a
 * {@link BatchOutcome} with one result or rejection per command. Knows nothing of command kinds,
 * so every kind the state machine has is replicated.
 *
 * <p>Business errors are outcomes, not exceptions: one rejected command must not fail the others
 * of its batch. Apply is deterministic (time comes from the command). Snapshots are the state
 * machine's {@link StateSnapshot} in a {@code RaftSnapshot} file ({@link RaftSnapshotFile}, streamed
 * both ways), named by term and index, with a CRC-32C checked on load (and Ratis' MD5 for snapshot
 * installation).
 */
final class RatisStateMachine extends BaseStateMachine {
  private static final Logger log = LoggerFactory.getLogger(RatisStateMachine.class);

  private final StateMachine stateMachine;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  // local waiters for "applied up to index" (read-your-writes after a forwarded write)
  private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiters = new ConcurrentSkipListMap<>();
  private final Object applyLock = new Object();
  /** What {@link #takeSnapshot} returns when it took none (Ratis' invalid log index): nothing is purged. */
  private static final long NO_SNAPSHOT = -1;
  private volatile String halted;

  RatisStateMachine(StateMachine stateMachine) {
    this.stateMachine = stateMachine;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    getLifeCycle().transition(LifeCycle.State.STARTING);
    loadLatest();
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  /** Ratis pauses the state machine before it installs a snapshot from the leader, then reinitializes it. */
  @Override
  public void pause() {
    if (getLifeCycleState() == LifeCycle.State.RUNNING) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    // after a snapshot was installed from the leader
    boolean paused = getLifeCycleState() == LifeCycle.State.PAUSED;
    if (paused) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
    }
    loadLatest();
    if (paused) {
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
    log.info("Installed a snapshot from the leader; applied index now {}", appliedIndex());
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  private void loadLatest() throws IOException {
    SingleFileSnapshotInfo info = storage.loadLatestSnapshot();
    if (info == null) {
      return;
    }
    File file = info.getFile().getPath().toFile();
    if (info.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file, info.getFile().getFileDigest());
    }
    // streamed, never read whole: a snapshot is about as large as the state it restores
    RaftSnapshotFile.Header header;
    try {
      header = RaftSnapshotFile.check(file.toPath());
    } catch (RaftSnapshotFile.Damaged e) {
      throw new IOException("snapshot " + file + " cannot be loaded (" + e.getMessage() + "); refusing to load it", e);
    }
    TermIndex ti = info.getTermIndex();
    synchronized (applyLock) {
      RaftSnapshotFile.restore(file.toPath(), header, stateMachine);
      setLastAppliedTermIndex(ti);
    }
    log.info("Loaded snapshot {} (term {}, index {})", file.getName(), ti.getTerm(), ti.getIndex());
    release(ti.getIndex());
  }

  /**
   * A restore's state, inflated and applied one instance at a time (never whole, as a snapshot
   * file's is not). The accepting node built the bytes from a backup it had parsed, so a failure
   * here is a bug: thrown, it stops this node as any other failure to apply does.
   */
  private void restoreDeflated(com.google.protobuf.ByteString deflated) {
    java.util.zip.Inflater inflater = new java.util.zip.Inflater();
    try (java.io.InputStream in = new java.util.zip.InflaterInputStream(deflated.newInput(), inflater, 1 << 16)) {
      io.lodestar.core.StreamedSnapshot.restore(com.google.protobuf.CodedInputStream.newInstance(in, 1 << 16),
          stateMachine);
    } catch (IOException e) {
      throw new IllegalStateException("a restore entry cannot be read back: " + e, e);
    } finally {
      inflater.end();
    }
  }

  /** Runs on the leader, in parallel, before the entry is logged: a batch that does not parse never reaches the log. */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    ByteString data = request.getMessage().getContent();
    CommandBatch batch = CommandBatch.parseFrom(data.asReadOnlyByteBuffer());
    for (Command c : batch.getCommandsList()) {
      StateMachine.validate(c); // stateless; the accepting node checked already, this guards the log
    }
    return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request).setLogData(data).build();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    TermIndex ti = TermIndex.valueOf(entry);
    CommandBatch batch;
    try {
      batch = CommandBatch.parseFrom(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
    } catch (IOException e) {
      // startTransaction parsed it; a damaged entry here is a bug, not a business error
      return CompletableFuture.failedFuture(e);
    }
    BatchOutcome.Builder out = BatchOutcome.newBuilder();
    synchronized (applyLock) {
      try {
        if (batch.hasRestore()) {
          stateMachine.restore(batch.getRestore());
          log.warn("State restored from a backup at index {} ({} instances)", ti.getIndex(),
              batch.getRestore().getRegistry().getInstancesCount());
        } else if (!batch.getRestoreDeflated().isEmpty()) {
          restoreDeflated(batch.getRestoreDeflated());
          log.warn("State restored from a backup at index {} ({} instances, {} bytes deflated)", ti.getIndex(),
              stateMachine.registry().instanceCount(), batch.getRestoreDeflated().size());
        }
        for (Command c : batch.getCommandsList()) {
          Outcome.Builder o = Outcome.newBuilder();
          try {
            o.setResult(stateMachine.apply(c));
          } catch (LodestarException e) {
            Rejection.Builder r = Rejection.newBuilder().setErrorCode(e.code().wire()).setCode(e.code().name())
                .setMessage(e.getMessage());
            if (e.field() != null) {
              r.setField(e.field());
            }
            o.setRejection(r);
          }
          out.addOutcomes(o);
        }
        stateMachine.flush();
      } catch (RuntimeException e) {
        // Not a refusal: a bug or a broken invariant, possibly after a partial mutation. Answering
        // it as an outcome would let this replica run on in a state the others may not share.
        // Ratis' rule: an exception thrown here stops this node's Raft server, so it applies
        // nothing more; a restart replays the entry and stops again until the cause is fixed.
        halted = "applying the entry at log index " + ti.getIndex() + " failed: " + e;
        log.error("This node stops taking writes: {}. Reads still serve the state as of this point; "
            + "restart once the cause is fixed", halted, e);
        failWaiters(new LodestarException(LodestarException.Code.UNAVAILABLE,
            "this node stopped taking writes after a storage failure (see its log); write to another node", null));
        throw e;
      }
      updateLastAppliedTermIndex(ti.getTerm(), ti.getIndex());
    }
    release(ti.getIndex());
    return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(out.build().toByteArray())));
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    // Ratis' own entries (configuration, leader no-ops) move the applied index too
    synchronized (applyLock) {
      super.notifyTermIndexUpdated(term, index);
    }
    release(index);
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /**
   * Writes the state machine's state as a snapshot named by the last applied term and index.
   * Ratis calls this on its state machine updater, between applies: the state is captured there,
   * under the apply lock, as references to the registry's immutable entries, and streamed to the
   * file one instance at a time ({@link RaftSnapshotFile}): no second, protobuf copy of the state.
   * Ratis may purge the log up to the index returned, so the file is synced before it returns.
   */
  @Override
  public long takeSnapshot() throws IOException {
    if (getLifeCycleState() != LifeCycle.State.RUNNING) {
      return NO_SNAPSHOT; // paused: a snapshot from the leader is being installed, and replaces this one
    }
    Captured captured = capture();
    TermIndex ti = captured.at();
    File target = storage.getSnapshotFile(ti.getTerm(), ti.getIndex());
    long t0 = System.nanoTime();
    long bytes;
    org.apache.ratis.io.MD5Hash md5;
    try {
      bytes = RaftSnapshotFile.write(captured.state(), ti.getTerm(), ti.getIndex(), target.toPath());
      md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
    } catch (IOException | IllegalStateException e) {
      // Ratis installs the leader's snapshot on another thread: it pauses this state machine, then
      // replaces the snapshot directory, this file with it. Not a failure of this node: had it
      // thrown (the MD5 helper's IllegalStateException), Ratis would have stopped the node.
      if (overtakenByInstall(ti)) {
        return NO_SNAPSHOT;
      }
      throw e instanceof IOException io ? io : new IOException("snapshot at index " + ti.getIndex() + ": " + e, e);
    }
    DirectorySync.sync(target.toPath().toAbsolutePath().getParent()); // the .md5 beside it: a load needs both
    if (overtakenByInstall(ti)) {
      return NO_SNAPSHOT;
    }
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), ti));
    log.info("Raft snapshot at term {} index {}: {} KiB in {} ms", ti.getTerm(), ti.getIndex(), bytes / 1024,
        (System.nanoTime() - t0) / 1_000_000);
    return ti.getIndex();
  }

  /**
   * Whether a snapshot from the leader is being (or was) installed while this node wrote its own:
   * the state machine is paused, and the install replaces the snapshot directory, so the node's own
   * snapshot is abandoned (no log purge follows), not reported.
   */
  private boolean overtakenByInstall(TermIndex ti) {
    if (getLifeCycleState() == LifeCycle.State.RUNNING) {
      return false;
    }
    log.info("Raft snapshot at index {} abandoned: a snapshot from the leader is being installed", ti.getIndex());
    return true;
  }

  /** The state as of an applied term and index, captured cheaply to be written by any thread. */
  private record Captured(TermIndex at, io.lodestar.core.StreamedSnapshot state) {}

  private Captured capture() {
    synchronized (applyLock) {
      TermIndex ti = getLastAppliedTermIndex();
      return new Captured(ti, stateMachine.captureSnapshot(ti.getIndex()));
    }
  }

  /**
   * Writes the whole state now to {@code file} as a snapshot file would hold it (a backup),
   * streamed as {@link #takeSnapshot} writes; returns the log index it reflects.
   */
  long backupTo(java.nio.file.Path file) throws IOException {
    Captured captured = capture();
    RaftSnapshotFile.write(captured.state(), captured.at().getTerm(), captured.at().getIndex(), file);
    return captured.at().getIndex();
  }

  /**
   * The whole state now, as a snapshot file would hold it, built whole in memory: for checks that
   * hold nodes' states against each other (the simulated cluster's). Snapshots and backups stream.
   */
  RaftSnapshot exportState() {
    StateSnapshot state;
    TermIndex ti;
    synchronized (applyLock) {
      ti = getLastAppliedTermIndex();
      state = stateMachine.snapshot(ti.getIndex());
    }
    byte[] bytes = state.toByteArray();
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return RaftSnapshot.newBuilder().setTerm(ti.getTerm()).setIndex(ti.getIndex()).setCrc32C((int) crc.getValue())
        .setState(com.google.protobuf.ByteString.copyFrom(bytes)).build();
  }

  /** Why this node stopped applying entries, or null while it applies them. */
  String halted() {
    return halted;
  }

  long appliedIndex() {
    return getLastAppliedTermIndex() == null ? 0 : getLastAppliedTermIndex().getIndex();
  }

  /** Completes once this node has applied the given index. */
  CompletableFuture<Void> whenApplied(long index) {
    if (appliedIndex() >= index) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = waiters.computeIfAbsent(index, i -> new CompletableFuture<>());
    if (appliedIndex() >= index) {
      release(index);
    }
    return f;
  }

  private void release(long upTo) {
    Map<Long, CompletableFuture<Void>> done = waiters.headMap(upTo, true);
    for (var it = done.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      it.remove();
      e.getValue().complete(null);
    }
  }

  void failWaiters(Throwable t) {
    for (var it = waiters.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      it.remove();
      e.getValue().completeExceptionally(t);
    }
  }
}
