package io.lodestar.server.auth;

import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.RequestHeaders;

/** Where a request carries its token. */
public final class Credentials {
  /** The console's login cookie (HttpOnly, SameSite=Strict, Path=/ui). */
  public static final String COOKIE = "lodestar_token";

  private Credentials() {}

  /**
   * {@code Authorization: Bearer}, then {@code X-Lodestar-Token}, then {@code X-Consul-Token}, then
   * (console pages only) the login cookie; "" when none carries one. An empty value is no token
   * (Consul's clients send empty headers), never a malformed one.
   */
  public static String secret(RequestHeaders headers) {
    String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) && !auth.substring(7).isBlank()) {
      return auth.substring(7).trim();
    }
    for (String name : new String[] {"x-lodestar-token", "x-consul-token"}) {
      String t = headers.get(name);
      if (t != null && !t.isBlank()) {
        return t.trim();
      }
    }
    if (headers.path().startsWith("/ui")) {
      for (Cookie c : headers.cookies()) {
        if (c.name().equals(COOKIE) && !c.value().isBlank()) {
          return c.value().trim();
        }
      }
    }
    return "";
  }
}
