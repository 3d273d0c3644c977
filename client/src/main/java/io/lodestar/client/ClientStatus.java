package io.lodestar.client;

import java.time.Instant;

/**
 * The client's connection state.
 *
 * @param state where the connection is
 * @param server the server connected to, or last tried; empty before the first attempt
 * @param since when this state was entered
 * @param detail why (the last error when disconnected); empty when there is nothing to say
 * @param serverHealth how the server this client is connected to says it is doing
 */
public record ClientStatus(State state, String server, Instant since, String detail, ServerHealth serverHealth) {

  public ClientStatus(State state, String server, Instant since, String detail) {
    this(state, server, since, detail, ServerHealth.UP);
  }

  /**
   * The server's own health, as its {@code GET /health} says, told over the stream when it changes.
   *
   * @param status {@code UP}; {@code DEGRADED}: it serves reads and pushes but writes may fail (no
   *     majority), or it is holding instances whose leases would expire (mass-expiry protection);
   *     {@code DOWN}
   * @param reason why, when not UP; empty otherwise
   * @param expiryProtection non-empty while the server pauses removal of expired instances: their
   *     clients likely lost the server, not their lives; the lists keep them, marked unhealthy
   */
  public record ServerHealth(String status, String reason, String expiryProtection) {
    public static final ServerHealth UP = new ServerHealth("UP", "", "");

    public boolean isUp() {
      return "UP".equals(status);
    }
  }

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
