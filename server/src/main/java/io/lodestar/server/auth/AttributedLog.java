package io.lodestar.server.auth;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.server.storage.CommandLog;
import io.lodestar.server.storage.ForwardingCommandLog;
import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The command log as request handlers see it: every command submitted while serving a request
 * is stamped with who made it (the principal's name, or "anonymous") and from where, before it is
 * logged. The envelope carries them, so every replica applies — and audits — the same thing
 * without a clock or a lookup of its own. Commands the server makes itself (health transitions)
 * are submitted outside a request and stay unstamped.
 */
public final class AttributedLog extends ForwardingCommandLog {
  public AttributedLog(CommandLog log) {
    super(log);
  }

  @Override
  public CompletableFuture<CommandResult> submit(Command command) {
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    if (ctx == null || !command.getActor().isEmpty()) {
      return log.submit(command);
    }
    Principal p = ctx.attr(Authorizer.PRINCIPAL);
    InetAddress from = ctx.clientAddress();
    return log.submit(command.toBuilder().setActor(p == null ? Principal.ANONYMOUS_NAME : p.name())
        .setSource(from == null ? "" : from.getHostAddress()).build());
  }

}
