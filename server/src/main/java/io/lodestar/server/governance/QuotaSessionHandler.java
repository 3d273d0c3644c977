package io.lodestar.server.governance;

import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.server.session.Session;
import io.lodestar.server.session.SessionHandler;
import java.util.Set;

/** Cluster rate-limit reports on the SDK stream: each is answered with the client's shares. */
public final class QuotaSessionHandler implements SessionHandler {
  private final QuotaService quotas;

  public QuotaSessionHandler(QuotaService quotas) {
    this.quotas = quotas;
  }

  @Override
  public Set<ClientMessage.BodyCase> accepts() {
    return Set.of(ClientMessage.BodyCase.QUOTA_REPORT);
  }

  @Override
  public Part attach(Session session) {
    return new Part() {
      @Override
      public void onMessage(long requestId, ClientMessage m) {
        session.send(ServerMessage.newBuilder().setRequestId(requestId)
            .setQuotaGrant(quotas.report(session.clientId(), m.getQuotaReport())).build());
      }

      @Override
      public void onClose(boolean clean) {
        quotas.forget(session.clientId()); // its shares go back to the others
      }
    };
  }
}
