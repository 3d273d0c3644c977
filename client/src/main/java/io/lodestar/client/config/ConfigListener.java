package io.lodestar.client.config;

/**
 * Told about a config: first the version the client holds when the listener is added (if it
 * holds one), then every newer version, in version order, once each, never concurrently for one
 * listener, on the client's listener executor. A delete arrives as a {@link Config} whose
 * {@link Config#exists()} is false. After a reconnect the client catches up to the latest version
 * before calling: versions published while it was away may be skipped, never reordered.
 */
@FunctionalInterface
public interface ConfigListener {
  void onChange(Config config);
}
