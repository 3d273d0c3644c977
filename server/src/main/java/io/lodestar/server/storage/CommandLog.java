package io.lodestar.server.storage;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import java.util.concurrent.CompletableFuture;

/**
 * Where writes go: a command is made durable, then applied to the state machine, and only then is
 * the future completed. Today one node's write-ahead log ({@link LocalLog}); the cluster mode puts
 * a Raft group behind the same interface.
 */
public interface CommandLog extends AutoCloseable {
  /**
   * Logs and applies a command. The future fails with {@link io.lodestar.core.LodestarException}
   * when the command is invalid or refused by the state machine.
   */
  CompletableFuture<CommandResult> submit(Command command);

  /**
   * Completes once this node has applied every write acknowledged anywhere before the call: what a
   * consistent read waits for. A single node is always up to date.
   */
  default CompletableFuture<Void> barrier() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  void close();
}
