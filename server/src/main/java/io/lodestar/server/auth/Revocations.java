package io.lodestar.server.auth;

import com.linecorp.armeria.common.RequestContext;
import io.lodestar.core.auth.TokenStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every open request made with a token — SDK streams, ADS streams, long polls, watches, the
 * console's event feed — by token name, so that revoking a token ends them at once instead of
 * letting them live on what was authorized when they opened. Cancelling the request context is
 * the one way to end any of them: gRPC sees CANCELLED (the SDK reconnects and is refused), an
 * HTTP response is reset.
 */
public final class Revocations implements TokenStore.Listener {
  private static final Logger log = LoggerFactory.getLogger(Revocations.class);

  // token name -> its open requests, each with how to end it
  private final Map<String, Map<RequestContext, Runnable>> open = new ConcurrentHashMap<>();

  /** Tracks a request until it completes; a revocation cancels it. */
  void track(String tokenName, RequestContext ctx) {
    track(tokenName, ctx, ctx::cancel);
  }

  /**
   * Tracks a request until it completes; a revocation runs {@code close} (an SDK session ends its
   * stream with UNAUTHENTICATED, so the client learns why).
   */
  public void track(String tokenName, RequestContext ctx, Runnable close) {
    open.computeIfAbsent(tokenName, k -> new ConcurrentHashMap<>()).put(ctx, close);
    ctx.log().whenComplete().thenRun(() -> {
      Map<RequestContext, Runnable> s = open.get(tokenName);
      if (s != null) {
        s.remove(ctx);
      }
    });
  }

  /** Stops tracking a request: a revocation will not end it. */
  void untrack(String tokenName, RequestContext ctx) {
    Map<RequestContext, Runnable> s = open.get(tokenName);
    if (s != null) {
      s.remove(ctx);
    }
  }

  /** Runs on the applier thread at the end of the batch that revoked the token. */
  @Override
  public void revoked(String name) {
    Map<RequestContext, Runnable> s = open.remove(name);
    int n = s == null ? 0 : s.size();
    if (s != null) {
      s.values().forEach(Runnable::run);
    }
    log.info("Token {} revoked; {} open requests and streams made with it closed", name, n);
  }

  /** Open requests made with a token (tests, metrics). */
  public int openCount(String name) {
    Map<RequestContext, Runnable> s = open.get(name);
    return s == null ? 0 : s.size();
  }
}
