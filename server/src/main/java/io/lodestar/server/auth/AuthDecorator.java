package io.lodestar.server.auth;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.core.LodestarException;
import io.lodestar.server.http.Json;

/**
 * The HTTP door of every request on the node's ports: finds the token ({@link Credentials}),
 * authenticates it, records the principal on the request for the handlers and the audit trail,
 * tracks the request for revocation, and enforces what {@link RestPermissions} says the path
 * needs. With auth on, a presented token that matches none is refused (401) wherever a token
 * counts, so a revoked token never silently becomes anonymous; with auth off it is ignored, as
 * before auth existed.
 */
public final class AuthDecorator implements DecoratingHttpServiceFunction {
  private final Authorizer authorizer;
  private final Revocations revocations;
  private final boolean metricsOpen;

  /** @param metricsOpen whether /metrics answers without a token when auth is on */
  public AuthDecorator(Authorizer authorizer, Revocations revocations, boolean metricsOpen) {
    this.authorizer = authorizer;
    this.revocations = revocations;
    this.metricsOpen = metricsOpen;
  }

  @Override
  public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
    RestPermissions.Required need = RestPermissions.required(req.method(), ctx.path());
    String memberProof = req.headers().get(ClusterCredential.HEADER);
    Principal p;
    if (memberProof != null && authorizer.hasClusterSecret()) {
      // another member (docs/security.md#cluster-members); a wrong proof is refused whatever the path.
      // A node without a cluster secret cannot check one and ignores it: its usual rules apply.
      p = authorizer.authenticateMember(memberProof);
      if (p == null) {
        return deny(ctx, new LodestarException(LodestarException.Code.UNAUTHENTICATED,
            "the cluster credential does not match this node's cluster secret (--cluster-secret-file)", "cluster"));
      }
    } else {
      p = authorizer.authenticate(Credentials.secret(req.headers()));
    }
    if (p == null) {
      if (!authorizer.enabled() || need.kind() == RestPermissions.Kind.OPEN) {
        p = Principal.ANONYMOUS; // auth off (as before auth existed), or a stale cookie on the login page
      } else if (need.kind() == RestPermissions.Kind.DELEGATED && ctx.path().startsWith("/v1/")) {
        p = Principal.ANONYMOUS; // the Consul API reads ?token= too: its gate decides
      } else {
        // named as for a missing token, so that whoever reads the 401 knows which token would do
        String needed = need.kind() == RestPermissions.Kind.PERMISSION || need.kind() == RestPermissions.Kind.INTERNAL
            ? Authorizer.permission(need.action(), need.namespace()) : null;
        return deny(ctx, new LodestarException(LodestarException.Code.UNAUTHENTICATED,
            "unknown or revoked token" + (needed == null ? "" : " (permission needed: " + needed + ")"), needed));
      }
    }
    ctx.setAttr(Authorizer.PRINCIPAL, p);
    boolean grpc = need.kind() == RestPermissions.Kind.DELEGATED && !ctx.path().startsWith("/v1/");
    if (p.token() && !grpc) {
      revocations.track(p.name(), ctx); // gRPC streams track themselves, to end with a clear status
    }
    try {
      switch (need.kind()) {
        case OPEN, DELEGATED -> { }
        case AUTHENTICATED -> authorizer.checkAuthenticated(p);
        case METRICS -> {
          if (!metricsOpen) {
            authorizer.checkAuthenticated(p);
          }
        }
        case PERMISSION -> authorizer.check(p, need.action(), need.namespace());
        case INTERNAL -> authorizer.checkInternal(p, need.action(), need.namespace());
      }
    } catch (LodestarException e) {
      return deny(ctx, e);
    }
    return delegate.serve(ctx, req);
  }

  private static HttpResponse deny(ServiceRequestContext ctx, LodestarException e) {
    if (ctx.path().startsWith("/ui/") && e.code() == LodestarException.Code.UNAUTHENTICATED) {
      // a browser without its cookie: to the login form, then back
      return HttpResponse.of(ResponseHeaders.of(HttpStatus.SEE_OTHER, "location", "/ui/login"));
    }
    return Json.respond(Json.statusOf(e), Denials.body(e));
  }
}
