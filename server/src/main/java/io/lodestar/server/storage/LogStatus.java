package io.lodestar.server.storage;

/**
 * What this node's write path can do now, as {@code /health} reports it.
 *
 * <p>{@code UP}: writes are accepted. {@code DEGRADED}: the node serves reads but a write may fail
 * for a reason expected to pass (no majority reachable); it recovers by itself. {@code DOWN}: the
 * node stopped taking writes for good (storage failed, or applying a logged command failed
 * unexpectedly) and needs an operator; reads still see the state as of the stop.
 */
public record LogStatus(State state, String reason) {
  public enum State { UP, DEGRADED, DOWN }

  public static final LogStatus UP = new LogStatus(State.UP, null);

  public static LogStatus degraded(String reason) {
    return new LogStatus(State.DEGRADED, reason);
  }

  public static LogStatus down(String reason) {
    return new LogStatus(State.DOWN, reason);
  }
}
