package io.lodestar.server.http;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.core.LodestarException;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into the API's JSON error shape: business errors keep their code and field,
 * oversized bodies become 413, anything unexpected a 500 without a stack trace (which is logged).
 */
public final class ErrorHandler implements ServerErrorHandler {
  private static final Logger log = LoggerFactory.getLogger(ErrorHandler.class);

  @Override
  public HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
    Throwable c = unwrap(cause);
    if (c instanceof LodestarException e) {
      log.debug("Refused {} {}: {} {}", ctx.method(), ctx.path(), e.codeName(), e.getMessage());
      return Json.error(e);
    }
    if (c instanceof com.linecorp.armeria.common.ShuttingDownException
        || c instanceof com.linecorp.armeria.common.ClosedSessionException) {
      return Json.respond(HttpStatus.SERVICE_UNAVAILABLE,
          Json.errorBody("unavailable", "the server is shutting down; retry on another node", null));
    }
    if (c instanceof com.linecorp.armeria.server.RequestCancellationException) {
      // ended on purpose (a revoked token's open requests, docs/security.md): nothing to log
      return Json.respond(HttpStatus.UNAUTHORIZED, Json.errorBody("unauthenticated", "the token was revoked", null));
    }
    if (c instanceof com.linecorp.armeria.server.HttpStatusException hse) {
      HttpStatus st = hse.httpStatus();
      return Json.respond(st, Json.errorBody(codeFor(st), st.reasonPhrase(), st.code() == 413 ? "body" : null));
    }
    if (c instanceof ContentTooLargeException) {
      return Json.respond(HttpStatus.REQUEST_ENTITY_TOO_LARGE,
          Json.errorBody("too_large", "request body is larger than the limit", "body"));
    }
    if (c instanceof IllegalArgumentException) {
      return Json.respond(HttpStatus.BAD_REQUEST, Json.errorBody("invalid_argument", c.getMessage(), null));
    }
    log.error("Unexpected error serving {} {}", ctx.method(), ctx.path(), c);
    return Json.respond(HttpStatus.INTERNAL_SERVER_ERROR,
        Json.errorBody("internal", "internal error; see the server log", null));
  }

  @Override
  public AggregatedHttpResponse renderStatus(ServiceRequestContext ctx, ServiceConfig config, RequestHeaders headers,
      HttpStatus status, String description, Throwable cause) {
    if (cause != null && unwrap(cause) instanceof LodestarException e) {
      return AggregatedHttpResponse.of(Json.statusOf(e), MediaType.JSON_UTF_8,
          Json.errorBody(e.codeName(), e.getMessage(), e.field()).toString());
    }
    String code = codeFor(status);
    String message = description != null ? description : status.reasonPhrase();
    return AggregatedHttpResponse.of(status, MediaType.JSON_UTF_8,
        Json.errorBody(code, message, status.code() == 413 ? "body" : null).toString());
  }

  private static String codeFor(HttpStatus status) {
    return switch (status.code()) {
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 413, 414, 431 -> "too_large"; // a body, a URI or headers over the server's limits
      case 400 -> "invalid_argument";
      case 503 -> "unavailable";
      default -> status.code() >= 500 ? "internal" : "error";
    };
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
