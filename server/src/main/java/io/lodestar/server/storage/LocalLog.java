package io.lodestar.server.storage;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import io.lodestar.core.StreamedSnapshot;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single node's write-ahead log with snapshots, and the one thread that applies commands.
 *
 * <p>Group commit: the applier drains every queued command, appends them all, syncs the file once,
 * then applies them in order and completes their futures. A write is acknowledged only after its
 * sync, so an acknowledged write survives kill -9, a crash of the OS and a power loss; one sync
 * serves thousands of writes under load.
 *
 * <p>The one exception is soft state ({@link StateMachine#softState}: ephemeral instances, which
 * their clients re-assert after any failure). A batch of nothing else is applied, pushed and
 * acknowledged once it is written to the file, that is in the kernel's page cache, so it survives
 * kill -9 of this process; the {@code lodestar-sync} thread syncs it right after, off the path of
 * the answer, and any other write syncs everything before it. A crash of the OS or a power loss
 * can lose the changes of the last unsynced moment, which their clients register again when they
 * reconnect. Their revisions are never reused: a start after a stop that was not clean moves the
 * revision counter past anything that could have been seen ({@link #UNSYNCED_REVISIONS}) and
 * persists that with a snapshot before it takes writes. {@link #syncEphemeral} turns this off.
 *
 * <p>Files in the directory: {@code log-<first index>.wal} segments of records
 * {@code [int length][int crc32c][long index][command bytes]}, and {@code snapshot-<index>.bin}.
 * On open the newest valid snapshot is loaded and later records replayed. A torn tail (a crash
 * mid-write, never acknowledged: the damaged record is the last thing in the last segment, no
 * valid record after it) is cut off. Damage anywhere else, including damage in the last segment
 * that valid records follow, stops the start with an error naming the file and byte rather than
 * silently losing acknowledged writes, unless the operator chose {@link #truncateDamaged}.
 */
public final class LocalLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(LocalLog.class);
  private static final int RECORD_HEADER = 4 + 4 + 8;
  private static final int SNAPSHOT_MAGIC = 0x4C445331; // "LDS1"
  // magic, index, crc32c of the body, length of the body
  private static final int SNAPSHOT_HEADER = 20;
  private static final int MAX_BATCH = 8192;
  private static final int MAX_RECORD = 64 << 20;
  /** Writes that may wait for the applier; {@code --write-queue}. */
  public static final int DEFAULT_WRITE_QUEUE = 200_000;
  /**
   * Revisions that may be published unsynced: past it, the applier syncs before it publishes. A
   * start after a crash skips {@link #REVISION_SKIP} (more than this plus any one batch's changes).
   */
  static final long UNSYNCED_REVISIONS = 1L << 20;
  static final long REVISION_SKIP = 1L << 32;
  /**
   * Present (synced) from before the first write published unsynced until a clean close has synced
   * everything: a start that finds it may have lost such writes.
   */
  private static final String UNSYNCED_MARKER = "unsynced-writes";

  private final Path dir;
  private final StateMachine stateMachine;
  private final int snapshotEvery;
  private final BlockingQueue<Pending> queue;
  private final WriteAdmission admission;
  private final Thread applier;
  // completes the futures, so that nothing chained onto them runs on the applier
  private final ExecutorService acks = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lodestar-ack");
    t.setDaemon(true);
    return t;
  });
  // serializes and writes snapshots, so that the applier only copies the state (one at a time)
  private final ExecutorService snapshotter = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lodestar-snapshot");
    t.setDaemon(true);
    return t;
  });
  private final java.util.concurrent.atomic.AtomicBoolean snapshotting = new java.util.concurrent.atomic.AtomicBoolean();
  private final Timer syncTimer;
  private final DistributionSummary batchSize;
  private final io.micrometer.core.instrument.Counter writeSyncs;
  private final io.micrometer.core.instrument.Counter backgroundSyncs;
  private final io.micrometer.core.instrument.Counter snapshotsWritten;
  // syncs what soft batches wrote, right after them, off the applier's path
  private final Thread syncer;
  // the syncer holds it while it syncs the segment; the applier while it replaces the segment
  private final Object segmentLock = new Object();
  // set by the applier when it published an unsynced batch, cleared by the syncer as it starts a sync
  private final java.util.concurrent.atomic.AtomicBoolean unsynced = new java.util.concurrent.atomic.AtomicBoolean();
  // the revision counter as of everything published (applier) and of everything synced
  private volatile long publishedRevision;
  private volatile long syncedRevision;
  private volatile boolean syncerRunning;
  private boolean syncEphemeral;
  private boolean marked; // applier: the unsynced-writes marker is on disk

  private FileChannel segment;
  private long lastIndex;
  private volatile long snapshotIndex; // written by the snapshot thread
  private long sinceSnapshot;
  // A snapshot is due once the log since the last one is at least as large as that snapshot (and
  // holds snapshotEvery entries): a fixed count made a growing state's snapshots quadratic (a node
  // filling to 1,000,000 instances rewrote all it held every 50,000 writes, 57 s of its 271 s of CPU;
  // docs/benchmarks.md), while this keeps their cost proportional to the writes and a restart's
  // replay no longer than reading the snapshot. Applier only, and the snapshot thread's last size.
  private long logBytesSinceSnapshot;
  private volatile long lastSnapshotBytes;
  private volatile boolean running;
  // set once, when the node stops taking writes for good (a failed write or apply); /health says why
  private volatile String halted;

  private record Pending(Command command, CompletableFuture<CommandResult> future) {}

  /** {@code --wal-truncate-damaged}: cut the last segment at its damage even when valid records follow. */
  private boolean truncateDamaged;

  public LocalLog(Path dir, StateMachine stateMachine, int snapshotEvery, MeterRegistry meters) {
    this(dir, stateMachine, snapshotEvery, DEFAULT_WRITE_QUEUE, meters);
  }

  /** @param writeQueue how many writes may wait for the applier (see {@link WriteAdmission}) */
  public LocalLog(Path dir, StateMachine stateMachine, int snapshotEvery, int writeQueue, MeterRegistry meters) {
    this.dir = dir;
    this.stateMachine = stateMachine;
    this.snapshotEvery = snapshotEvery;
    this.queue = new ArrayBlockingQueue<>(writeQueue);
    this.admission = new WriteAdmission(writeQueue, meters);
    // the log growing while the state does not is what a retry storm looks like from outside
    meters.gauge("lodestar.log.index", this, l -> l.lastIndex);
    meters.gauge("lodestar.log.queued", queue, BlockingQueue::size);
    this.applier = new Thread(this::runApplier, "lodestar-applier");
    this.syncTimer = Timer.builder("lodestar.log.sync").description("time to append and sync one batch")
        .register(meters);
    this.batchSize = DistributionSummary.builder("lodestar.log.batch.size")
        .description("commands per synced batch").register(meters);
    this.writeSyncs = io.micrometer.core.instrument.Counter.builder("lodestar.log.fsyncs")
        .description("syncs of the write-ahead log: before an answer (write) or after it (background)")
        .tag("path", "write").register(meters);
    this.snapshotsWritten = io.micrometer.core.instrument.Counter.builder("lodestar.log.snapshots")
        .description("snapshots written").register(meters);
    this.backgroundSyncs = io.micrometer.core.instrument.Counter.builder("lodestar.log.fsyncs")
        .description("syncs of the write-ahead log: before an answer (write) or after it (background)")
        .tag("path", "background").register(meters);
    this.syncer = new Thread(this::runSyncer, "lodestar-sync");
  }

  /**
   * {@code --sync-ephemeral}: sync ephemeral registrations before acknowledging them too, as every
   * other write (etcd's and ZooKeeper's behaviour); off by default (the class comment says why).
   */
  public LocalLog syncEphemeral(boolean sync) {
    this.syncEphemeral = sync;
    return this;
  }

  /**
   * Lets {@link #open()} cut the last segment at a damaged record even when valid records follow
   * it, losing them (the operator's explicit choice, {@code --wal-truncate-damaged}; logged at
   * WARN with how much was cut). Without it such a log refuses to start.
   */
  public LocalLog truncateDamaged(boolean truncate) {
    this.truncateDamaged = truncate;
    return this;
  }

  /** Loads the newest snapshot, replays the log after it, and starts the applier. */
  @Override
  public void open() throws IOException {
    OwnerOnly.createDirectories(dir);
    long start = System.nanoTime();
    snapshotIndex = loadSnapshot();
    refuseIfADamagedSnapshotLeavesAGap();
    lastIndex = snapshotIndex;
    long replayed = replay();
    stateMachine.flush();
    sinceSnapshot = replayed;
    logBytesSinceSnapshot = logFileBytes();
    if (segment == null) {
      segment = openSegment(lastIndex + 1);
    }
    skipRevisionsIfUnsyncedWritesMayBeLost();
    publishedRevision = syncedRevision = stateMachine.revision();
    running = true;
    syncerRunning = true;
    syncer.setDaemon(true);
    syncer.start();
    applier.setDaemon(true);
    applier.start();
    log.info("Storage open at {}: snapshot index {}, {} log entries replayed, last index {} ({} ms)", dir,
        snapshotIndex, replayed, lastIndex, (System.nanoTime() - start) / 1_000_000);
  }

  /**
   * After a stop that was not clean (kill -9, a crash, a power loss) of a run that published
   * ephemeral changes before their sync, some may be missing from the log, and the revisions they
   * took would be given again to other changes: a client that saw one could take the new state for
   * what it has. So the counter moves past all of them, and a snapshot persists that before any
   * write.
   */
  private void skipRevisionsIfUnsyncedWritesMayBeLost() throws IOException {
    if (!Files.deleteIfExists(dir.resolve(UNSYNCED_MARKER))) {
      return;
    }
    long before = stateMachine.revision();
    stateMachine.skipRevisions(REVISION_SKIP);
    stateMachine.flush();
    writeSnapshot();
    syncDir();
    log.info("The last stop was not clean and ephemeral changes may have been acknowledged before their sync: "
        + "revisions continue at {} instead of {}, past any of theirs", stateMachine.revision() + 1, before + 1);
  }

  /** Before the first write published unsynced: a start after a crash then knows to skip revisions. */
  private void markUnsyncedWrites() throws IOException {
    try (FileChannel m = FileChannel.open(dir.resolve(UNSYNCED_MARKER), java.util.Set.of(StandardOpenOption.CREATE,
        StandardOpenOption.WRITE), OwnerOnly.file())) {
      m.force(true);
    }
    syncDir();
    marked = true;
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
    if (!running || halted != null) {
      f.completeExceptionally(halted != null ? haltedError() : shuttingDown());
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

  @Override
  public LogStatus status() {
    String reason = halted;
    return reason == null ? LogStatus.UP : LogStatus.down(reason);
  }

  private void halt(String reason) {
    halt(reason, null);
  }

  private void halt(String reason, Throwable cause) {
    halted = reason;
    log.error("This node stops taking writes: {}. Reads still serve the state as of this point; "
        + "restart once the cause is fixed", reason, cause);
  }

  private static LodestarException haltedError() {
    return new LodestarException(LodestarException.Code.UNAVAILABLE,
        "this node stopped taking writes after a storage failure (see its log); write to another node", null);
  }

  private static LodestarException shuttingDown() {
    return new LodestarException(LodestarException.Code.UNAVAILABLE, "server is shutting down", null);
  }

  /** Index of the last logged command. */
  public long lastIndex() {
    return lastIndex;
  }

  /** Writes a snapshot now, on the applier thread, and waits for it. */
  @Override
  public void snapshot() {
    CompletableFuture<CommandResult> f = new CompletableFuture<>();
    queue.add(new Pending(null, f));
    f.join();
  }

  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false;
    applier.interrupt();
    try {
      applier.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Anything that slipped in after the applier stopped is refused, never left hanging.
    for (Pending p; (p = queue.poll()) != null; ) {
      p.future.completeExceptionally(shuttingDown());
    }
    syncerRunning = false;
    java.util.concurrent.locks.LockSupport.unpark(syncer);
    snapshotter.shutdown(); // a snapshot under way is finished before the last one is taken
    acks.shutdown(); // what the applier handed over still completes
    try {
      syncer.join(30_000);
      snapshotter.awaitTermination(60, TimeUnit.SECONDS);
      acks.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (halted == null && sinceSnapshot > 0) {
        writeSnapshot();
      }
      segment.force(false);
      segment.close();
      if (halted == null && Files.deleteIfExists(dir.resolve(UNSYNCED_MARKER))) {
        syncDir(); // everything is synced: the next start need not skip revisions
      }
    } catch (IOException e) {
      log.warn("Closing storage: {}", e.toString());
    }
    log.info("Storage closed at index {}", lastIndex);
  }

  // ------------------------------------------------------------------ applier thread

  private void runApplier() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    while (true) {
      batch.clear();
      try {
        Pending first = running ? queue.take() : queue.poll();
        if (first == null) {
          return; // closing and drained
        }
        batch.add(first);
      } catch (InterruptedException e) {
        if (queue.isEmpty()) {
          return;
        }
        continue; // drain what is left before stopping
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      buf = process(batch, buf);
    }
  }

  private ByteBuffer process(List<Pending> batch, ByteBuffer buf) {
    long t0 = System.nanoTime();
    long firstIndex = lastIndex + 1;
    long index = lastIndex;
    // soft state only (ephemeral instances): published and acknowledged once written, synced after
    boolean soft = !syncEphemeral;
    buf.clear();
    try {
      for (Pending p : batch) {
        if (p.command == null) {
          continue;
        }
        soft = soft && stateMachine.softState(p.command);
        byte[] bytes = p.command.toByteArray();
        if (buf.remaining() < RECORD_HEADER + bytes.length) {
          buf = flushBuffer(buf, RECORD_HEADER + bytes.length);
        }
        index++;
        putRecord(buf, index, bytes);
        logBytesSinceSnapshot += RECORD_HEADER + bytes.length;
      }
      if (soft && !marked && index > lastIndex) {
        markUnsyncedWrites();
      }
      flushBuffer(buf, 0);
      if (index > lastIndex && !soft) {
        segment.force(false); // and so everything written before it
        writeSyncs.increment();
      }
    } catch (IOException e) {
      halt("writing the log failed: " + e);
      failAll(batch);
      return buf;
    }
    syncTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    batchSize.record(index - lastIndex);
    boolean written = index > lastIndex;
    lastIndex = index;
    sinceSnapshot += index - firstIndex + 1;

    // Durable: now apply in log order, publish, and only then acknowledge.
    Object[] results = new Object[batch.size()];
    long applying = firstIndex;
    try {
      for (int i = 0; i < batch.size(); i++) {
        Pending p = batch.get(i);
        if (p.command == null) {
          continue;
        }
        try {
          results[i] = stateMachine.apply(p.command);
        } catch (LodestarException e) {
          results[i] = e; // a refusal: deterministic, changed nothing, replays the same
        }
        applying++;
      }
      long revision = stateMachine.revision();
      if (soft && revision - syncedRevision > UNSYNCED_REVISIONS) {
        // the syncer fell behind: never publish more unsynced revisions than a start skips
        segment.force(false);
        writeSyncs.increment();
        soft = false;
      }
      if (!soft) {
        syncedRevision = revision; // everything applied so far was written before the sync
      }
      publishedRevision = revision; // before the views: the syncer covers what it reads here
      stateMachine.flush();
    } catch (IOException e) {
      halt("syncing the log failed: " + e);
      failAll(batch);
      return buf;
    } catch (RuntimeException e) {
      // Not a refusal: a bug or a broken invariant, possibly after a partial mutation. The same
      // rule as on replay and in a cluster: stop here, never skip a logged command.
      halt("applying the command at log index " + applying + " failed: " + e, e);
      failAll(batch);
      return buf;
    }
    if (soft && written && !unsynced.getAndSet(true)) {
      java.util.concurrent.locks.LockSupport.unpark(syncer); // only when it may be parked
    }
    List<Pending> done = List.copyOf(batch);
    acks.execute(() -> {
      for (int i = 0; i < done.size(); i++) {
        Pending p = done.get(i);
        if (p.command == null) {
          continue;
        }
        if (results[i] instanceof CommandResult r) {
          p.future.complete(r);
        } else {
          p.future.completeExceptionally((Throwable) results[i]);
        }
      }
    });
    boolean forced = false;
    for (Pending p : batch) {
      if (p.command == null) {
        forced = true;
      }
    }
    if ((forced || (sinceSnapshot >= snapshotEvery && logBytesSinceSnapshot >= lastSnapshotBytes))
        && snapshotting.compareAndSet(false, true)) {
      // The applier only copies the state (immutable protos) and starts a new segment; the
      // snapshot thread serializes, writes and syncs it, then drops what it covers. Writes go on
      // meanwhile: a crash before the file is complete leaves the previous snapshot and every
      // segment since, so nothing is lost.
      List<Pending> waiting = done.stream().filter(p -> p.command == null).toList();
      try {
        PreparedSnapshot prepared = prepareSnapshot();
        snapshotter.execute(() -> {
          try {
            persistSnapshot(prepared);
          } catch (IOException | RuntimeException e) {
            log.warn("Snapshot failed (the log still has every write): {}", e.toString());
          } finally {
            snapshotting.set(false);
            waiting.forEach(p -> acks.execute(() -> p.future.complete(CommandResult.getDefaultInstance())));
          }
        });
        return buf;
      } catch (IOException e) {
        snapshotting.set(false);
        log.warn("Snapshot failed (the log still has every write): {}", e.toString());
      }
    }
    for (Pending p : done) {
      if (p.command == null) {
        acks.execute(() -> p.future.complete(CommandResult.getDefaultInstance()));
      }
    }
    return buf;
  }

  /**
   * {@code lodestar-sync}: syncs the log whenever a soft batch left it unsynced, one sync for
   * everything written before it starts. It runs at once, so the unsynced window is one sync long,
   * and writes go on meanwhile (a sync and a write of one file do not wait for each other).
   */
  private void runSyncer() {
    while (true) {
      while (!unsynced.get()) {
        if (!syncerRunning) {
          return;
        }
        java.util.concurrent.locks.LockSupport.park(this);
      }
      // cleared before the sync starts: a batch published after this point sets it again
      unsynced.set(false);
      long covered = publishedRevision;
      try {
        synchronized (segmentLock) {
          segment.force(false);
        }
        backgroundSyncs.increment();
        if (covered > syncedRevision) {
          syncedRevision = covered; // may race with the applier's own: lower only means an extra sync
        }
      } catch (IOException e) {
        if (running && halted == null) {
          halt("syncing the log failed: " + e + "; ephemeral changes acknowledged since the last sync may be lost "
              + "if the machine fails before they reach the disk");
        }
      }
    }
  }

  private void failAll(List<Pending> batch) {
    List<Pending> failed = List.copyOf(batch);
    acks.execute(() -> failed.forEach(p -> p.future.completeExceptionally(haltedError())));
  }

  private ByteBuffer flushBuffer(ByteBuffer buf, int need) throws IOException {
    buf.flip();
    while (buf.hasRemaining()) {
      segment.write(buf);
    }
    buf.clear();
    if (need > buf.capacity()) {
      buf = ByteBuffer.allocate(Math.max(need, buf.capacity() * 2));
    }
    return buf;
  }

  private static void putRecord(ByteBuffer buf, long index, byte[] bytes) {
    CRC32C crc = new CRC32C();
    ByteBuffer idx = ByteBuffer.allocate(8).putLong(0, index);
    crc.update(idx);
    crc.update(bytes);
    buf.putInt(bytes.length).putInt((int) crc.getValue()).putLong(index).put(bytes);
  }

  // ------------------------------------------------------------------ snapshots

  /** The state as of {@code index}, copied on the applier, to be written by any thread. */
  private record PreparedSnapshot(StreamedSnapshot state, long index, long startNanos) {}

  /** On the applier: copies the state and starts a new segment at the next index. */
  private PreparedSnapshot prepareSnapshot() throws IOException {
    long t0 = System.nanoTime();
    StreamedSnapshot snap = stateMachine.captureSnapshot(lastIndex);
    synchronized (segmentLock) {
      // the segment keeps what the snapshot covers until the snapshot is written: synced first
      segment.force(false);
      segment.close();
      segment = openSegment(lastIndex + 1);
    }
    sinceSnapshot = 0;
    logBytesSinceSnapshot = 0;
    return new PreparedSnapshot(snap, lastIndex, t0);
  }

  /** Synchronously, when no applier runs (closing). */
  private void writeSnapshot() throws IOException {
    persistSnapshot(prepareSnapshot());
  }

  /**
   * Writes a prepared snapshot next to the log (temporary file, sync, atomic rename), then drops
   * older snapshots and the segments it covers: they all end at or before its index. The body is
   * streamed (the registry one instance at a time, rendered once: {@link StreamedSnapshot}), the
   * registry's length filled in where the stream left room for it, the checksum read back from the
   * file (the page cache: far cheaper than rendering the instances again) and the header written
   * last at the start of the file.
   */
  private void persistSnapshot(PreparedSnapshot prepared) throws IOException {
    long t0 = prepared.startNanos();
    long at = prepared.index();
    Path tmp = dir.resolve("snapshot.tmp");
    long size;
    try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING), OwnerOnly.file())) {
      ch.position(SNAPSHOT_HEADER);
      // not closed: that would close the channel, whose header is still to be written
      CodedOutputStream out = CodedOutputStream.newInstance(Channels.newOutputStream(ch), 1 << 16);
      StreamedSnapshot.Written written = prepared.state().writeTo(out);
      out.flush();
      size = written.size();
      if (ch.position() != SNAPSHOT_HEADER + size) {
        throw new IOException("snapshot wrote " + (ch.position() - SNAPSHOT_HEADER) + " bytes, expected " + size);
      }
      if (size > Integer.MAX_VALUE) {
        throw new IOException("a snapshot of " + size + " bytes does not fit the snapshot file's header");
      }
      FileRegion.write(ch, written.registryLength(), SNAPSHOT_HEADER + written.registryLengthAt());
      int crc = FileRegion.crc32c(ch, SNAPSHOT_HEADER, SNAPSHOT_HEADER + size);
      FileRegion.write(ch, ByteBuffer.allocate(SNAPSHOT_HEADER).putInt(SNAPSHOT_MAGIC).putLong(at)
          .putInt(crc).putInt((int) size).array(), 0);
      ch.force(true);
    }
    Path target = dir.resolve(String.format("snapshot-%020d.bin", at));
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDir();
    snapshotIndex = at;
    lastSnapshotBytes = SNAPSHOT_HEADER + size;
    snapshotsWritten.increment();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        if ((n.startsWith("snapshot-") && n.endsWith(".bin") && !p.equals(target))
            || (n.startsWith("log-") && n.endsWith(".wal") && segmentStart(p) <= at)) {
          Files.deleteIfExists(p);
        }
      }
    }
    log.info("Snapshot at index {}: {} KiB in {} ms", at, size / 1024, (System.nanoTime() - t0) / 1_000_000);
  }

  /** The bytes of the log's segments on disk (at open: what the loaded snapshot does not cover). */
  private long logFileBytes() throws IOException {
    long total = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("log-") && n.endsWith(".wal")) {
          total += Files.size(p);
        }
      }
    }
    return total;
  }

  /** The newest snapshot passed over as damaged, and why; null when none was. */
  private String damagedSnapshot;

  /**
   * A damaged snapshot may be passed over only if the log still holds everything after the one
   * loaded instead; otherwise the node would start with a state that silently lacks what the
   * damaged snapshot covered.
   */
  private void refuseIfADamagedSnapshotLeavesAGap() throws IOException {
    if (damagedSnapshot == null) {
      return;
    }
    long firstLogged;
    try (Stream<Path> files = Files.list(dir)) {
      firstLogged = files.map(p -> p.getFileName().toString()).filter(n -> n.matches("log-\\d{20}\\.wal"))
          .mapToLong(n -> Long.parseLong(n.substring(4, 24))).min().orElse(Long.MAX_VALUE);
    }
    if (firstLogged > snapshotIndex + 1) {
      throw new IOException(damagedSnapshot + ", and the log no longer holds the writes it covers (the log starts at "
          + (firstLogged == Long.MAX_VALUE ? "nothing" : "index " + firstLogged) + "); refusing to start with them "
          + "missing: restore the data directory from a backup (docs/operations.md)");
    }
  }

  private long loadSnapshot() throws IOException {
    List<Path> snaps;
    try (Stream<Path> files = Files.list(dir)) {
      snaps = files.filter(p -> p.getFileName().toString().matches("snapshot-\\d{20}\\.bin"))
          .sorted().toList();
    }
    for (int i = snaps.size() - 1; i >= 0; i--) {
      Path p = snaps.get(i);
      // read as a stream, never whole: a snapshot is about as large as the state it restores
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        if (restoreSnapshot(p, ch)) {
          lastSnapshotBytes = ch.size();
          return Long.parseLong(p.getFileName().toString().substring(9, 29));
        }
      }
    }
    return 0;
  }

  /**
   * Restores from one snapshot file, or passes it over (false) as damaged. Two passes: the
   * checksum over the whole body first, so that a damaged file changes nothing, then the parse.
   */
  private boolean restoreSnapshot(Path p, FileChannel ch) throws IOException {
    long fileSize = ch.size();
    ByteBuffer b = ByteBuffer.allocate(SNAPSHOT_HEADER);
    while (b.hasRemaining() && ch.read(b) >= 0) {
      // the header, or as much of it as there is
    }
    b.flip();
    if (b.remaining() < SNAPSHOT_HEADER || b.getInt() != SNAPSHOT_MAGIC) {
      log.warn("Ignoring damaged snapshot {}", p);
      damagedSnapshot = damagedSnapshot != null ? damagedSnapshot : "snapshot " + p + " is damaged (no header)";
      return false;
    }
    long index = b.getLong();
    if (index != Long.parseLong(p.getFileName().toString().substring(9, 29))) {
      // the checksum covers the body only: the header's index must agree with the file's name
      log.warn("Ignoring snapshot {}: its header says index {}", p, index);
      damagedSnapshot = damagedSnapshot != null ? damagedSnapshot : "snapshot " + p + " is damaged (index)";
      return false;
    }
    int crcValue = b.getInt();
    int len = b.getInt();
    if (len != fileSize - SNAPSHOT_HEADER) {
      log.warn("Ignoring truncated snapshot {}", p);
      damagedSnapshot = damagedSnapshot != null ? damagedSnapshot : "snapshot " + p + " is damaged (truncated)";
      return false;
    }
    if (FileRegion.crc32c(ch, SNAPSHOT_HEADER, fileSize) != crcValue) {
      log.warn("Ignoring snapshot {} with a bad checksum", p);
      damagedSnapshot = damagedSnapshot != null ? damagedSnapshot : "snapshot " + p + " is damaged (bad checksum)";
      return false;
    }
    ch.position(SNAPSHOT_HEADER);
    // not closed here: the caller closes the channel
    StreamedSnapshot.restore(CodedInputStream.newInstance(Channels.newInputStream(ch), 1 << 16), stateMachine);
    return true;
  }

  // ------------------------------------------------------------------ replay

  private long replay() throws IOException {
    List<Path> segments;
    try (Stream<Path> files = Files.list(dir)) {
      segments = files.filter(p -> p.getFileName().toString().matches("log-\\d{20}\\.wal")).sorted().toList();
    }
    long replayed = 0;
    for (int s = 0; s < segments.size(); s++) {
      Path p = segments.get(s);
      boolean last = s == segments.size() - 1;
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long size = ch.size();
        long pos = 0;
        ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER);
        while (pos < size) {
          header.clear();
          String damage = null;
          byte[] bytes = null;
          long index = 0;
          if (size - pos < RECORD_HEADER) {
            damage = "torn header";
          } else {
            ch.read(header, pos);
            header.flip();
            int len = header.getInt();
            int crcValue = header.getInt();
            index = header.getLong();
            if (len < 0 || len > MAX_RECORD || pos + RECORD_HEADER + len > size) {
              damage = "torn record";
            } else {
              ByteBuffer body = ByteBuffer.allocate(len);
              ch.read(body, pos + RECORD_HEADER);
              bytes = body.array();
              CRC32C crc = new CRC32C();
              crc.update(ByteBuffer.allocate(8).putLong(0, index));
              crc.update(bytes);
              if ((int) crc.getValue() != crcValue) {
                damage = "bad checksum";
              }
            }
          }
          if (damage != null) {
            if (!last) {
              throw new IOException("log segment " + p + " is damaged at byte " + pos + " (" + damage
                  + ") and is not the last one; refusing to start rather than lose acknowledged writes");
            }
            long validAt = nextValidRecord(ch, pos, size);
            if (validAt < 0) {
              log.warn("Cutting off an unacknowledged {} at byte {} of {} ({} bytes, a write torn by a crash)",
                  damage, pos, p, size - pos);
            } else if (!truncateDamaged) {
              throw new IOException("log segment " + p + " is damaged at byte " + pos + " (" + damage + "), and valid "
                  + "records follow it (the first at byte " + validAt + "): this is not a torn write, and cutting it "
                  + "would lose acknowledged writes; refusing to start. Restore the data directory from a backup, or "
                  + "start once with --wal-truncate-damaged to drop everything from byte " + pos + " ("
                  + (size - pos) + " bytes)");
            } else {
              log.warn("--wal-truncate-damaged: cutting {} bytes of {} from byte {} ({}), including valid records "
                  + "from byte {} on: writes acknowledged after index {} are lost", size - pos, p, pos, damage,
                  validAt, lastIndex);
            }
            ch.truncate(pos);
            ch.force(true);
            break;
          }
          pos += RECORD_HEADER + bytes.length;
          if (index <= lastIndex) {
            continue; // already in the snapshot
          }
          if (index != lastIndex + 1) {
            throw new IOException("log gap in " + p + ": expected index " + (lastIndex + 1) + ", found " + index);
          }
          Command cmd = Command.parseFrom(bytes);
          try {
            stateMachine.apply(cmd);
          } catch (LodestarException e) {
            // refused when first applied too: deterministic, nothing to do
          } catch (RuntimeException e) {
            // the rule of live apply: never skip a logged command; a node cannot start past it
            throw new IOException("applying the logged command at index " + index + " (" + cmd.getKindCase()
                + ") failed: " + e + "; the node cannot start past it", e);
          }
          lastIndex = index;
          replayed++;
        }
      }
      if (last) {
        segment = FileChannel.open(p, StandardOpenOption.WRITE);
        segment.position(segment.size());
      }
    }
    return replayed;
  }

  /**
   * The offset of the first intact record after a damaged one at {@code damagedAt}, or -1 when
   * none follows (a torn tail). Every offset is tried, since the damage may have hidden where the
   * next record starts; a candidate must fit the file, carry an index after the last one replayed
   * and match its checksum (a chance match of CRC-32C on garbage is one in four billion per try).
   */
  private long nextValidRecord(FileChannel ch, long damagedAt, long size) throws IOException {
    long from = damagedAt + 1;
    if (size - from < RECORD_HEADER) {
      return -1;
    }
    ByteBuffer rest = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, size - from));
    while (rest.hasRemaining() && ch.read(rest, from + rest.position()) > 0) {
      // read to the end
    }
    rest.flip();
    int n = rest.limit();
    for (int q = 0; q + RECORD_HEADER <= n; q++) {
      int len = rest.getInt(q);
      long index = rest.getLong(q + 8);
      if (len < 0 || len > MAX_RECORD || (long) q + RECORD_HEADER + len > n || index <= lastIndex
          || index > lastIndex + n) {
        continue;
      }
      CRC32C crc = new CRC32C();
      crc.update(ByteBuffer.allocate(8).putLong(0, index));
      crc.update(rest.slice(q + RECORD_HEADER, len));
      if ((int) crc.getValue() == rest.getInt(q + 4)) {
        return from + q;
      }
    }
    return -1;
  }

  private FileChannel openSegment(long firstIndex) throws IOException {
    Path p = dir.resolve(String.format("log-%020d.wal", firstIndex));
    FileChannel ch = FileChannel.open(p, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
        OwnerOnly.file());
    ch.position(ch.size());
    syncDir();
    return ch;
  }

  private static long segmentStart(Path p) {
    String n = p.getFileName().toString();
    return Long.parseLong(n.substring(4, n.length() - 4));
  }

  private void syncDir() {
    DirectorySync.sync(dir);
  }
}
