package io.lodestar.client;

import io.lodestar.api.v1.ErrorCode;

/**
 * A request the SDK could not complete: the server refused it ({@link #code()} is the server's,
 * e.g. {@code invalid_argument}, {@code not_found}), it timed out ({@value #TIMEOUT}), or the
 * client is closed ({@value #CLOSED}).
 */
public class LodestarClientException extends RuntimeException {
  public static final String TIMEOUT = "timeout";
  public static final String CLOSED = "closed";
  public static final String NO_INSTANCE = "no_instance";
  public static final String UNAVAILABLE = "unavailable";

  private final String code;
  private final String field;

  public LodestarClientException(String code, String message, String field) {
    super(message);
    this.code = code == null ? "" : code;
    this.field = field == null ? "" : field;
  }

  public LodestarClientException(String code, String message, Throwable cause) {
    super(message, cause);
    this.code = code == null ? "" : code;
    this.field = "";
  }

  /**
   * The server's code as the wire enum (shared with the server through api/), or
   * {@link ErrorCode#ERROR_CODE_UNSPECIFIED} when the SDK itself gave up ({@link #code()} says why).
   */
  ErrorCode errorCode() {
    for (ErrorCode c : ErrorCode.values()) {
      if (c != ErrorCode.UNRECOGNIZED && c.name().toLowerCase(java.util.Locale.ROOT).equals(code)) {
        return c;
      }
    }
    return ErrorCode.ERROR_CODE_UNSPECIFIED;
  }

  /** Machine-readable reason: a server error code or one of the constants of this class. */
  public String code() {
    return code;
  }

  /** The offending request field, when the server named one; else empty. */
  public String field() {
    return field;
  }
}
