package io.lodestar.server.consul;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.ExceptionHandlerFunction;
import io.lodestar.core.LodestarException;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Consul's error style: a status and a plain-text reason, never JSON, never a stack trace. */
final class ConsulErrors implements ExceptionHandlerFunction {
  private static final Logger log = LoggerFactory.getLogger(ConsulErrors.class);

  @Override
  public HttpResponse handleException(ServiceRequestContext ctx, HttpRequest req, Throwable cause) {
    Throwable c = cause;
    while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof LodestarException e) {
      // the same status as Lodestar's own API; only the body is Consul's (plain text)
      return ConsulResponses.error(io.lodestar.server.http.Json.statusOf(e), e.getMessage());
    }
    if (c instanceof com.linecorp.armeria.common.ContentTooLargeException) {
      return ConsulResponses.error(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "Request body too large");
    }
    if (c instanceof com.linecorp.armeria.server.HttpStatusException hse) {
      // Armeria's own refusals, such as a body past the server's limit before any service reads it
      return ConsulResponses.error(hse.httpStatus(), hse.httpStatus().reasonPhrase());
    }
    if (c instanceof IllegalArgumentException) {
      return ConsulResponses.error(HttpStatus.BAD_REQUEST, String.valueOf(c.getMessage()));
    }
    log.error("Unexpected error serving Consul API {} {}", ctx.method(), ctx.path(), c);
    return ConsulResponses.error(HttpStatus.INTERNAL_SERVER_ERROR, "internal error; see the server log");
  }
}
