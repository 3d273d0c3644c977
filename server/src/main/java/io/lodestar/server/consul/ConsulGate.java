package io.lodestar.server.consul;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.server.storage.CommandLog;
import io.netty.util.AttributeKey;

/**
 * The one door every Consul request passes, on either port: it reads the request's token, asks
 * the server's {@link io.lodestar.server.auth.Authorizer} (reads need read on the namespace,
 * writes write; Consul's ?ns= names it) and applies Consul's consistency mode. An empty token is "no token", never a malformed one (Spring sends
 * {@code ?token=}, Prometheus {@code Authorization: Basic Og==} and an empty
 * {@code X-Consul-Token:}).
 */
final class ConsulGate implements DecoratingHttpServiceFunction {
  /** The request's token, or "" for anonymous. */
  static final AttributeKey<String> TOKEN = AttributeKey.valueOf(ConsulGate.class, "token");

  private final CommandLog log;
  private final io.lodestar.server.auth.Authorizer authorizer;

  ConsulGate(CommandLog log, io.lodestar.server.auth.Authorizer authorizer) {
    this.log = log;
    this.authorizer = authorizer;
  }

  @Override
  public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
    String token = token(ctx, req);
    ctx.setAttr(TOKEN, token);
    HttpResponse denied = authorize(ctx, req, token);
    if (denied != null) {
      return denied;
    }
    if (req.method() == HttpMethod.GET && ctx.queryParam("consistent") != null) {
      // ?consistent: first catch up with every write acknowledged anywhere (a Raft barrier)
      return HttpResponse.of(log.barrier().handle((v, err) -> {
        if (err != null) {
          return ConsulResponses.error(com.linecorp.armeria.common.HttpStatus.INTERNAL_SERVER_ERROR,
              "No cluster leader");
        }
        try {
          return delegate.serve(ctx, req);
        } catch (Exception e) {
          return HttpResponse.ofFailure(e);
        }
      }));
    }
    return delegate.serve(ctx, req);
  }

  /** Null when the request may go on; else the 401 or 403 to answer. */
  private HttpResponse authorize(ServiceRequestContext ctx, HttpRequest req, String token) {
    io.lodestar.server.auth.Principal p = authorizer.authenticate(token);
    if (p == null && !authorizer.enabled()) {
      p = io.lodestar.server.auth.Principal.ANONYMOUS; // auth off: a token is only recorded, as before
    }
    if (p == null) {
      return io.lodestar.server.http.Json.respond(com.linecorp.armeria.common.HttpStatus.UNAUTHORIZED,
          io.lodestar.server.auth.Denials.body(new io.lodestar.core.LodestarException(
              io.lodestar.core.LodestarException.Code.UNAUTHENTICATED, "ACL not found: unknown or revoked token", null)));
    }
    ctx.setAttr(io.lodestar.server.auth.Authorizer.PRINCIPAL, p); // the actor of the writes it makes
    String path = ctx.path();
    try {
      if (path.startsWith("/v1/status/") || path.equals("/v1/agent/self") || path.equals("/v1/catalog/datacenters")
          || path.equals("/v1/catalog/nodes")) {
        authorizer.checkAuthenticated(p); // what tools probe first; names no namespace's data
        return null;
      }
      String ns;
      try {
        ns = ConsulQuery.namespace(ctx);
      } catch (io.lodestar.core.LodestarException bad) {
        return null; // the route answers the bad ?ns= itself
      }
      boolean read = req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD;
      authorizer.check(p, read ? io.lodestar.core.auth.Policy.Action.READ : io.lodestar.core.auth.Policy.Action.WRITE, ns);
      return null;
    } catch (io.lodestar.core.LodestarException e) {
      return io.lodestar.server.http.Json.respond(io.lodestar.server.http.Json.statusOf(e),
          io.lodestar.server.auth.Denials.body(e));
    }
  }

  /** X-Consul-Token, then ?token=, then Authorization: Bearer; "" when none carries one. */
  static String token(ServiceRequestContext ctx, HttpRequest req) {
    String t = req.headers().get("x-consul-token");
    if (t != null && !t.isBlank()) {
      return t.trim();
    }
    t = ctx.queryParam("token");
    if (t != null && !t.isBlank()) {
      return t.trim();
    }
    String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) && !auth.substring(7).isBlank()) {
      return auth.substring(7).trim();
    }
    return "";
  }
}
