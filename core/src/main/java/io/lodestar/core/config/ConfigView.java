package io.lodestar.core.config;

import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.GraySelector;
import java.util.List;
import java.util.Map;

/**
 * An immutable picture of one config. Readers on any thread take the current view with one
 * volatile read; the applying thread publishes a new one per batch that changed the config.
 * Content of secret configs is ciphertext here: the server decrypts on the way out.
 *
 * @param version the highest version assigned (the candidate's while a gray release runs; the
 *     delete's for a deleted config)
 * @param released the version everyone gets, or null when deleted
 * @param candidate the gray candidate, or null
 * @param history every kept version, oldest first (empty when deleted)
 */
public record ConfigView(ConfigKey key, boolean deleted, boolean secret, long version, ConfigVersion released,
    ConfigVersion candidate, GraySelector selector, String grayAuthor, long grayStartedAtMs,
    List<ConfigVersion> history, int historyLimit, long createdAtMs) {

  public ConfigView {
    history = List.copyOf(history);
  }

  public boolean grayActive() {
    return candidate != null;
  }

  /** The version a client should hold: the candidate if it matches the gray selector, else the release. */
  public ConfigVersion versionFor(String clientId, String address, Map<String, String> labels) {
    if (candidate != null && GrayRule.matches(selector, clientId, address, labels)) {
      return candidate;
    }
    return released;
  }

  /** A kept version by number, or null. */
  public ConfigVersion find(long v) {
    for (ConfigVersion c : history) {
      if (c.getVersion() == v) {
        return c;
      }
    }
    return null;
  }
}
