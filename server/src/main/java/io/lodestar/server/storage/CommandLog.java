package io.lodestar.server.storage;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Where writes go: a command is made durable, then applied to the state machine, and only then is
 * the future completed. One node's write-ahead log ({@link LocalLog}) or a Raft group
 * ({@link RaftLog}); everything above this interface is the same code for both.
 *
 * <p>The log thread only writes: implementations complete their futures on a thread of their own,
 * never on the thread that appends and applies, so what callers chain onto a future (rendering an
 * answer, binding a lease, waking a poll) never delays the next batch.
 */
public interface CommandLog extends AutoCloseable {
  /** Loads the persisted state (snapshot, then the log after it) and starts taking writes. */
  void open() throws IOException;

  /**
   * Logs and applies a command. The future fails with {@link io.lodestar.core.LodestarException}
   * when the command is invalid or refused by the state machine, or with code UNAVAILABLE when the
   * node cannot take writes now (see {@link #status()}).
   */
  CompletableFuture<CommandResult> submit(Command command);

  /**
   * Completes once this node has applied every write acknowledged anywhere before the call: what a
   * consistent read waits for. A single node is always up to date.
   */
  default CompletableFuture<Void> barrier() {
    return CompletableFuture.completedFuture(null);
  }

  /** Writes a snapshot of the state now and waits for it (tests and operators). */
  void snapshot();

  /** Whether writes are accepted now, and if not, why. */
  LogStatus status();

  @Override
  void close();
}
