package io.lodestar.server.console;

import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.server.auth.Authorizer;
import io.lodestar.server.auth.Credentials;
import io.lodestar.server.auth.Principal;
import io.lodestar.server.http.Routes;
import java.util.Optional;

/**
 * Logging in to the console with an API token (docs/console.md): a form that checks the token
 * and keeps it in a cookie the page's scripts cannot read (HttpOnly), that other sites cannot make
 * the browser send (SameSite=Strict, so no cross-site request can write with it), and that only
 * the console's paths receive (Path=/ui). The console passes it on as a Bearer token to the REST
 * API it writes through, so every check is the API's own.
 */
final class ConsoleLogin implements Routes.Owner {
  private final Authorizer authorizer;

  ConsoleLogin(Authorizer authorizer) {
    this.authorizer = authorizer;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/login", "form", c -> form());
    routes.post("/ui/login", "login", c -> login(c.ctx(), c.optional("token")));
    routes.post("/ui/logout", "logout", c -> logout());
  }

  public HttpResponse form() {
    return page(HttpStatus.OK, "");
  }

  public HttpResponse login(ServiceRequestContext ctx, Optional<String> token) {
    String secret = token.map(String::trim).orElse("");
    Principal p = secret.isEmpty() ? null : authorizer.authenticate(secret);
    if (p == null || !p.token()) {
      return page(HttpStatus.UNAUTHORIZED, "<p class=\"error\" role=\"alert\">Unknown or revoked token.</p>");
    }
    Cookie c = Cookie.secureBuilder(Credentials.COOKIE, secret).path("/ui").httpOnly(true).sameSite("Strict")
        .secure(ctx.sessionProtocol().isTls()).build();
    return HttpResponse.of(ResponseHeaders.builder(HttpStatus.SEE_OTHER).add(HttpHeaderNames.LOCATION, "/ui/")
        .add(HttpHeaderNames.SET_COOKIE, c.toSetCookieHeader()).build());
  }

  public HttpResponse logout() {
    Cookie gone = Cookie.secureBuilder(Credentials.COOKIE, "").path("/ui").httpOnly(true).sameSite("Strict")
        .maxAge(0).build();
    return HttpResponse.of(ResponseHeaders.builder(HttpStatus.SEE_OTHER).add(HttpHeaderNames.LOCATION, "/ui/login")
        .add(HttpHeaderNames.SET_COOKIE, gone.toSetCookieHeader()).build());
  }

  private static HttpResponse page(HttpStatus status, String message) {
    String html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Log in · Lodestar</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/ui/assets/console.css">
        </head>
        <body>
        <header><a class="brand" href="/ui/">Lodestar</a></header>
        <main id="main">
        <h1>Log in</h1>
        %s
        <form method="post" action="/ui/login">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" required>
        <button type="submit">Log in</button>
        </form>
        <p>This server runs with <code>--auth</code>. Use a token from <code>lodestar token create</code>
        (or the bootstrap token in <code>&lt;data-dir&gt;/bootstrap-token</code>).</p>
        </main>
        </body>
        </html>
        """.formatted(message);
    return HttpResponse.of(ResponseHeaders.builder(status).contentType(MediaType.HTML_UTF_8)
        .add("Cache-Control", "no-store").build(), com.linecorp.armeria.common.HttpData.ofUtf8(html));
  }
}
