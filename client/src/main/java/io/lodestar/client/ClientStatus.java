package io.lodestar.client;

import java.time.Instant;

/**
 * The client's connection state.
 *
 * @param state where the connection is
 * @param server the server connected to, or last tried; empty before the first attempt
 * @param since when this state was entered
 * @param detail why (the last error when disconnected); empty when there is nothing to say
 */
public record ClientStatus(State state, String server, Instant since, String detail) {

  public enum State {
    /** Started; no server reached yet and none failed yet. */
    CONNECTING,
    /** A stream to a server is established: registrations are live and lists are pushed. */
    CONNECTED,
    /**
     * No server is reachable. The client keeps serving the last known lists (from memory or the
     * failover cache on disk) and reconnects in the background.
     */
    DISCONNECTED_SERVING_CACHE,
    /** {@link LodestarClient#close()} was called. */
    CLOSED
  }

  public boolean isConnected() {
    return state == State.CONNECTED;
  }
}
