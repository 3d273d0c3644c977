package io.lodestar.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.server.http.Json;
import io.lodestar.server.storage.LogStatus;
import java.util.function.Supplier;

/**
 * {@code GET /health}: {@code {"status":"UP"}}; {@code DEGRADED} with a reason while the node
 * serves reads but cannot write now and expects to recover by itself (still 200: a load balancer
 * should keep sending reads); {@code DOWN} with a reason, as 503, when the node stopped taking
 * writes for good or is shutting down. Mass-expiry protection makes an otherwise healthy node
 * DEGRADED too, with {@code expiryProtection} saying why removal is paused.
 */
final class HealthEndpoint implements HttpService {
  private final Supplier<LogStatus> storage;
  private final Supplier<String> expiryPaused;

  HealthEndpoint(Supplier<LogStatus> storage, Supplier<String> expiryPaused) {
    this.storage = storage;
    this.expiryPaused = expiryPaused;
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    LogStatus s = storage.get();
    String paused = expiryPaused.get();
    LogStatus.State state = s.state() == LogStatus.State.UP && paused != null ? LogStatus.State.DEGRADED : s.state();
    ObjectNode body = Json.object().put("status", state.name());
    if (s.reason() != null) {
      body.put("reason", s.reason());
    }
    if (paused != null) {
      body.put("expiryProtection", paused);
    }
    return Json.respond(state == LogStatus.State.DOWN ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.OK, body);
  }
}
