package io.lodestar.server.telemetry;

import io.lodestar.api.v1.ClientMessage;
import io.lodestar.server.session.Session;
import io.lodestar.server.session.SessionHandler;
import java.util.Set;

/** Call-statistics windows on the SDK stream: filed in the node's store, never answered. */
public final class CallStatsSessionHandler implements SessionHandler {
  private final CallStatsStore store;

  public CallStatsSessionHandler(CallStatsStore store) {
    this.store = store;
  }

  @Override
  public Set<ClientMessage.BodyCase> accepts() {
    return Set.of(ClientMessage.BodyCase.CALL_STATS);
  }

  @Override
  public Part attach(Session session) {
    return (requestId, m) -> store.add(m.getCallStats());
  }
}
