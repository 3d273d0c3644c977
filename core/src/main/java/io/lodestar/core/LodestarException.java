package io.lodestar.core;

import io.lodestar.api.v1.ErrorCode;

/**
 * A business error: the request is wrong or does not fit the current state. Thrown before any
 * mutation, so a command that fails leaves the state untouched. Endpoints map {@link Code} to a
 * protocol status; {@code field} names the offending input, when there is one.
 */
public final class LodestarException extends RuntimeException {
  /**
   * The codes of api/'s {@link ErrorCode} (one error model: REST, the SDK stream and Raft
   * rejections all carry these), as a Java enum so that call sites read {@code Code.NOT_FOUND}.
   */
  public enum Code {
    INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, CONFLICT, TOO_LARGE, UNAVAILABLE, INTERNAL,
    UNAUTHENTICATED, PERMISSION_DENIED,
    /** A per-client limit is reached (HTTP 429); the message names the limit. */
    TOO_MANY_REQUESTS;

    /** The wire enum. */
    public ErrorCode wire() {
      return ErrorCode.valueOf(name());
    }

    /** From the wire; null for a code this build does not know (or none). */
    public static Code of(ErrorCode code) {
      for (Code c : values()) {
        if (c.name().equals(code.name())) {
          return c;
        }
      }
      return null;
    }

    /** The REST and stream spelling: lower case, e.g. {@code not_found}. */
    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Code code;
  private final String field;
  private final long retryAfterMillis;

  public LodestarException(Code code, String message, String field) {
    this(code, message, field, 0);
  }

  /**
   * @param retryAfterMillis when the write was refused without being made and may be sent again
   *     after about this long (an overloaded node); 0 when the error says nothing about retrying
   */
  public LodestarException(Code code, String message, String field, long retryAfterMillis) {
    super(message, null, false, false);
    this.code = code;
    this.field = field;
    this.retryAfterMillis = retryAfterMillis;
  }

  public static LodestarException invalid(String field, String message) {
    return new LodestarException(Code.INVALID_ARGUMENT, message, field);
  }

  public static LodestarException notFound(String message) {
    return new LodestarException(Code.NOT_FOUND, message, null);
  }

  public Code code() {
    return code;
  }

  /** The input field at fault, or null. */
  public String field() {
    return field;
  }

  /** The retry hint of a refusal that made no change (see the constructor), or 0. */
  public long retryAfterMillis() {
    return retryAfterMillis;
  }

  /** Lower-case wire name of the code, e.g. {@code invalid_argument}. */
  public String codeName() {
    return code.wireName();
  }
}
