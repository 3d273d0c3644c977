package io.lodestar.client.governance;

/**
 * Why a call failed, as the call statistics count it (the breakers and balancers only see
 * success or failure). The integrations say what they know; {@link #ERROR} is anything else.
 */
public enum ErrorKind {
  /** Failed without a more precise kind (an exception, a generic {@link Outcome#FAILURE}). */
  ERROR("error"),
  /** The call ran out of time. */
  TIMEOUT("timeout"),
  /** The instance could not be reached or refused the connection. */
  UNAVAILABLE("unavailable"),
  /** The instance answered with a server error (HTTP 5xx, gRPC INTERNAL/UNKNOWN/DATA_LOSS/...). */
  SERVER_ERROR("server_error");

  private final String wireName;

  ErrorKind(String wireName) {
    this.wireName = wireName;
  }

  /** The lower-case name used on the wire and in the REST API. */
  public String wireName() {
    return wireName;
  }
}
