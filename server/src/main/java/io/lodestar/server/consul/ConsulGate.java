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
 * The one door every Consul request passes, on either port: it reads the request's token and
 * applies Consul's consistency mode. Lodestar has no auth yet, so the token is only recorded; an
 * auth decorator plugs in here. An empty token is "no token", never a malformed one (Spring sends
 * {@code ?token=}, Prometheus {@code Authorization: Basic Og==} and an empty
 * {@code X-Consul-Token:}).
 */
final class ConsulGate implements DecoratingHttpServiceFunction {
  /** The request's token, or "" for anonymous. */
  static final AttributeKey<String> TOKEN = AttributeKey.valueOf(ConsulGate.class, "token");

  private final CommandLog log;

  ConsulGate(CommandLog log) {
    this.log = log;
  }

  @Override
  public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
    ctx.setAttr(TOKEN, token(ctx, req));
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
