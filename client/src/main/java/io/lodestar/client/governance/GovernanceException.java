package io.lodestar.client.governance;

/** Why a call could not be given an instance, or was refused before it started. */
public final class GovernanceException extends RuntimeException {
  public enum Reason {
    /** The service has no instance to offer. */
    NO_INSTANCE,
    /** A route rule chose a subset with no instance, and its fallback is "fail". */
    SUBSET_EMPTY,
    /** The service's or the method's circuit breaker is open. */
    CIRCUIT_OPEN,
    /** A rate-limit rule refused the call. */
    RATE_LIMITED,
    /** The call is in a lane the service has no instance in, and the lane's fallback is "fail". */
    LANE_EMPTY
  }

  private final Reason reason;

  public GovernanceException(Reason reason, String message) {
    // No stack trace: these are expected outcomes on a hot path, not bugs.
    super(message, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
