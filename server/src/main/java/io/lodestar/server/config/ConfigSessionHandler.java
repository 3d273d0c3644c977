package io.lodestar.server.config;

import io.lodestar.api.v1.ClientMessage;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.server.session.Session;
import io.lodestar.server.session.SessionHandler;
import java.util.EnumSet;
import java.util.Set;

/** Config subscriptions on the SDK stream; the pushes come from the {@link ConfigPushHub}. */
public final class ConfigSessionHandler implements SessionHandler {
  private static final Set<ClientMessage.BodyCase> KINDS =
      EnumSet.of(ClientMessage.BodyCase.CONFIG_SUBSCRIBE, ClientMessage.BodyCase.CONFIG_UNSUBSCRIBE);

  private final ConfigPushHub hub;

  public ConfigSessionHandler(ConfigPushHub hub) {
    this.hub = hub;
  }

  @Override
  public Set<ClientMessage.BodyCase> accepts() {
    return KINDS;
  }

  @Override
  public Part attach(Session session) {
    return new Part() {
      @Override
      public void onMessage(long requestId, ClientMessage m) {
        if (m.hasConfigSubscribe()) {
          var c = m.getConfigSubscribe();
          hub.subscribe(session, ConfigKey.of(c.getNamespace(), c.getGroup(), c.getName()), c.getKnownVersion());
        } else {
          var c = m.getConfigUnsubscribe();
          hub.unsubscribe(session, ConfigKey.of(c.getNamespace(), c.getGroup(), c.getName()));
        }
      }

      @Override
      public void onReady() {
        hub.onReady(session);
      }

      @Override
      public void onClose(boolean clean) {
        hub.remove(session);
      }
    };
  }
}
