package io.lodestar.server.naming;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a gRPC client is told when a call fails outside Lodestar's own errors (a malformed or
 * oversized message, a reset stream, a bug): the status code and a plain description. Framework
 * and internal class names (Armeria, Netty, Ratis, Lodestar's) stay in the server log, at DEBUG,
 * because they mean nothing to the client and say more than it needs about the server.
 */
public final class GrpcErrors implements GrpcExceptionHandlerFunction {
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);
  /** A Java class name or exception type in a description: {@code com.x.Y}, {@code FooException}. */
  private static final Pattern INTERNAL = Pattern.compile(
      "\\b(?:com|io|org|java|javax|jdk|sun)\\.[a-z0-9_]+\\.|[A-Za-z]+(?:Exception|Error)\\b|armeria|netty|ratis",
      Pattern.CASE_INSENSITIVE);

  @Override
  public Status apply(RequestContext ctx, Status status, Throwable cause, Metadata metadata) {
    Status s = status != null ? status : Status.fromThrowable(cause);
    log.debug("gRPC call {} failed: {}", ctx == null ? "" : ctx.path(), s, cause);
    String description = s.getDescription();
    if (description != null && !INTERNAL.matcher(description).find()) {
      return s.withCause(null);
    }
    return Status.fromCode(s.getCode()).withDescription(plain(s.getCode()));
  }

  /** The description for a code whose original one named internals. */
  static String plain(Status.Code code) {
    return switch (code) {
      case RESOURCE_EXHAUSTED -> "the message is larger than the server accepts (1 MiB)";
      case INVALID_ARGUMENT -> "the request is malformed";
      case CANCELLED -> "the call was cancelled";
      case DEADLINE_EXCEEDED -> "the call took longer than its deadline";
      case UNAVAILABLE -> "the server is unavailable; retry, or try another node";
      case UNIMPLEMENTED -> "no such method";
      default -> "internal error; see the server log";
    };
  }

  /** The same clean-up for the message of an error sent inside a stream. */
  public static String clientMessage(Throwable t) {
    String m = t.getMessage();
    return m != null && !INTERNAL.matcher(m).find() ? m : "internal error; see the server log";
  }
}
