package io.lodestar.server.auth;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.state.AuditEntry;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.audit.AuditLog;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import java.time.Instant;
import java.util.Optional;

/** {@code GET /v1/audit?since=&ns=&limit=}: the audit trail, oldest first. Admin only. */
public final class AuditRestService implements Routes.Owner {
  static final int DEFAULT_LIMIT = 1000;
  private final AuditLog audit;

  public AuditRestService(AuditLog audit) {
    this.audit = audit;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/audit", "query", c -> query(c.optional("since"), c.optional("ns"), c.optional("limit")));
  }

  public HttpResponse query(Optional<String> since, Optional<String> ns, Optional<String> limit) {
    long sinceMs = since.filter(s -> !s.isBlank()).map(AuditRestService::parseSince).orElse(0L);
    String namespace = ns.filter(s -> !s.isBlank()).map(s -> Validation.name("ns", s)).orElse(null);
    int max = limit.filter(s -> !s.isBlank()).map(AuditRestService::parseLimit).orElse(DEFAULT_LIMIT);
    ObjectNode root = Json.object();
    ArrayNode arr = root.putArray("entries");
    for (AuditEntry e : audit.query(sinceMs, namespace, max)) {
      ObjectNode o = arr.addObject();
      o.put("index", e.getIndex()).put("time", Instant.ofEpochMilli(e.getTimeMs()).toString())
          .put("actor", e.getActor()).put("source", e.getSource()).put("action", e.getAction())
          .put("namespace", e.getNamespace()).put("target", e.getTarget());
    }
    return Json.ok(root);
  }

  /** Epoch milliseconds, or an ISO-8601 instant such as 2026-11-30T18:00:00Z. */
  static long parseSince(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      try {
        return Instant.parse(s.trim()).toEpochMilli();
      } catch (java.time.DateTimeException | ArithmeticException e2) {
        // a parse error, or an instant past what epoch milliseconds hold (+999999999-01-01T00:00:00Z)
        throw LodestarException.invalid("since", "since must be epoch milliseconds or an ISO-8601 instant, got '" + s + "'");
      }
    }
  }

  static int parseLimit(String s) {
    try {
      int n = Integer.parseInt(s.trim());
      if (n >= 1 && n <= AuditLog.CAPACITY) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw LodestarException.invalid("limit", "limit must be 1–" + AuditLog.CAPACITY);
  }
}
