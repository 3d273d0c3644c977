package io.lodestar.server.storage;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * A command log that passes everything to another: the base of decorators that change only how a
 * command is submitted (stamping who made it, admission limits), so each of them states just that.
 */
public abstract class ForwardingCommandLog implements CommandLog {
  protected final CommandLog log;

  protected ForwardingCommandLog(CommandLog log) {
    this.log = log;
  }

  @Override
  public CompletableFuture<CommandResult> submit(Command command) {
    return log.submit(command);
  }

  @Override
  public void open() throws IOException {
    log.open();
  }

  @Override
  public CompletableFuture<Void> barrier() {
    return log.barrier();
  }

  @Override
  public void snapshot() {
    log.snapshot();
  }

  @Override
  public LogStatus status() {
    return log.status();
  }

  @Override
  public void close() {
    log.close();
  }
}
