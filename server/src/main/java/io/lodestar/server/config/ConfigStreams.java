package io.lodestar.server.config;

import io.lodestar.api.v1.ClientMessage;
import io.lodestar.core.LodestarException;
import io.lodestar.core.config.ConfigKey;

/** The config messages of the SDK stream, handed over by the naming stream's connection. */
public final class ConfigStreams {
  private ConfigStreams() {}

  /** Handles a config message; throws {@link LodestarException} for bad input (sent back as an Error). */
  public static void handle(ConfigPushHub hub, ConfigPushHub.Subscriber s, ClientMessage m) {
    switch (m.getBodyCase()) {
      case CONFIG_SUBSCRIBE -> {
        var c = m.getConfigSubscribe();
        hub.subscribe(s, ConfigKey.of(c.getNamespace(), c.getGroup(), c.getName()), c.getKnownVersion());
      }
      case CONFIG_UNSUBSCRIBE -> {
        var c = m.getConfigUnsubscribe();
        hub.unsubscribe(s, ConfigKey.of(c.getNamespace(), c.getGroup(), c.getName()));
      }
      default -> throw LodestarException.invalid("body", "not a config message: " + m.getBodyCase());
    }
  }
}
