package io.lodestar.server.console;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;

/**
 * Every write the console makes is a call to this node's own public REST API over loopback. So a
 * console write is validated, logged, answered and refused exactly as the same call from curl or
 * the CLI, with the same error fields, and nothing in the console duplicates a rule of the API.
 * The caller's {@code Authorization} header is passed on, so the API's auth (issue 10) applies to
 * what the console does on the user's behalf.
 */
final class LoopbackApi implements AutoCloseable {
  private final IntSupplier port;
  private final java.util.function.Supplier<com.linecorp.armeria.client.ClientFactory> tlsFactory;
  private com.linecorp.armeria.client.ClientFactory ownFactory;
  private volatile WebClient client;
  private boolean closed;

  /**
   * @param tlsFactory null for a plaintext node (Armeria's default factory); else makes the factory
   *     that speaks TLS to the node's own port, closed with this API
   */
  LoopbackApi(IntSupplier port, java.util.function.Supplier<com.linecorp.armeria.client.ClientFactory> tlsFactory) {
    this.port = port;
    this.tlsFactory = tlsFactory;
  }

  /** Made on the first write, not at start: an idle console loads no HTTP client. */
  private WebClient client() {
    WebClient c = client;
    if (c == null) {
      synchronized (this) {
        c = client;
        if (c == null) {
          if (closed) {
            throw new IllegalStateException("the node is stopping");
          }
          com.linecorp.armeria.client.ClientFactory factory = com.linecorp.armeria.client.ClientFactory.ofDefault();
          if (tlsFactory != null) {
            factory = ownFactory = tlsFactory.get();
          }
          // The port is known only once the server started (port 0 picks one).
          String scheme = tlsFactory == null ? "http" : "https";
          client = c = WebClient.builder(scheme + "://127.0.0.1:" + port.getAsInt()).factory(factory).build();
        }
      }
    }
    return c;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (ownFactory != null) {
      ownFactory.closeAsync();
    }
  }

  CompletableFuture<ApiResult> json(HttpMethod method, String path, String jsonBody) {
    return send(method, path, Map.of(), MediaType.JSON_UTF_8, jsonBody == null ? "" : jsonBody);
  }

  /** A call with a raw body (config content) and extra headers such as {@code If-Match}. */
  CompletableFuture<ApiResult> send(HttpMethod method, String path, Map<String, String> headers, MediaType type,
      String body) {
    RequestHeadersBuilder h = RequestHeaders.builder(method, path).contentType(type);
    headers.forEach(h::add);
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    if (ctx != null) {
      // the operator's token (header, or the console's login cookie) goes on, so the API checks the write
      String secret = io.lodestar.server.auth.Credentials.secret(ctx.request().headers());
      if (!secret.isEmpty()) {
        h.add(HttpHeaderNames.AUTHORIZATION, "Bearer " + secret);
      }
    }
    return client().execute(HttpRequest.of(h.build(), com.linecorp.armeria.common.HttpData.ofUtf8(body)))
        .aggregate().thenApply(r -> ApiResult.of(r.status().code(), r.contentUtf8()));
  }
}
