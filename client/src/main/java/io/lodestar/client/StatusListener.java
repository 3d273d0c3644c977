package io.lodestar.client;

/**
 * Told about each change of {@link ClientStatus#state()}. Called on the listener executor, in
 * order, never concurrently for one listener.
 */
@FunctionalInterface
public interface StatusListener {
  void onStatus(ClientStatus status);
}
