package io.lodestar.server.http;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.SimpleDecoratingHttpService;
import io.lodestar.core.LodestarException;

/**
 * Refuses a {@code ;} in the path. The router drops everything from a {@code ;} to the end of a
 * segment (matrix parameters), so {@code POST /v1/namespaces/team;x} would create {@code team}:
 * a request would store something other than what it names. No Lodestar path has matrix parameters.
 */
public final class PathGuard extends SimpleDecoratingHttpService {
  public PathGuard(HttpService delegate) {
    super(delegate);
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) throws Exception {
    // the path as received: the context's own path has the matrix parameters taken out already
    String path = ctx.routingContext().requestTarget().rawPath();
    int query = path.indexOf('?');
    if ((query < 0 ? path : path.substring(0, query)).indexOf(';') >= 0) {
      return Json.error(LodestarException.invalid("path", "a path segment must not contain ';'"));
    }
    return unwrap().serve(ctx, req);
  }
}
