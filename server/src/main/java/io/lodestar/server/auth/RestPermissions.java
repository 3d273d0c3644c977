package io.lodestar.server.auth;

import com.linecorp.armeria.common.HttpMethod;
import io.lodestar.core.auth.Policy;

/**
 * What a request needs, from its method and path: one table for the whole HTTP surface, so that
 * a new route falls under its prefix's rule instead of being open by accident. Surfaces whose
 * permission depends on more than the path (the SDK and ADS streams, the Consul API) are
 * {@link Kind#DELEGATED} to their own decorator, which asks the same {@link Authorizer}.
 */
public final class RestPermissions {
  public enum Kind {
    /** Anyone, even with auth on: liveness, the login page, static assets. */
    OPEN,
    /** Any valid token. */
    AUTHENTICATED,
    /** {@link Required#action} on {@link Required#namespace}. */
    PERMISSION,
    /** /metrics: open or authenticated, as configured. */
    METRICS,
    /** Checked by the protocol's own decorator or interceptor. */
    DELEGATED,
    /**
     * A cluster-internal endpoint (a member's own state, its call statistics for a peer's merge):
     * the cluster principal only, when the node has a cluster secret; without one, {@code action}
     * on {@code namespace} as before, or open when there is no action ({@link Authorizer#checkInternal}).
     */
    INTERNAL
  }

  public record Required(Kind kind, Policy.Action action, String namespace) {
    static Required of(Kind kind) {
      return new Required(kind, null, "");
    }

    static Required of(Policy.Action action, String namespace) {
      return new Required(Kind.PERMISSION, action, namespace);
    }

    static Required internal(Policy.Action action, String namespace) {
      return new Required(Kind.INTERNAL, action, namespace);
    }
  }

  private RestPermissions() {}

  public static Required required(HttpMethod method, String path) {
    boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS;
    String[] s = segments(path);
    if (path.equals("/health")) {
      return Required.of(Kind.OPEN); // liveness
    }
    if (path.equals("/v1/cluster/node")) {
      // a member's own state (id, role, term, applied index, key id), which members read from each
      // other (cluster status, the secret-key check at start)
      return Required.internal(Policy.Action.ADMIN, "");
    }
    if (path.equals("/metrics")) {
      return Required.of(Kind.METRICS);
    }
    if (s.length > 0 && (s[0].startsWith("lodestar.v1.") || s[0].startsWith("envoy.") || s[0].startsWith("grpc."))) {
      return Required.of(Kind.DELEGATED);
    }
    if (path.equals("/") || path.equals("/ui") || path.equals("/ui/login") || path.equals("/ui/logout")
        || path.startsWith("/ui/assets/") || path.startsWith("/ui/webjars/")) {
      return Required.of(Kind.OPEN);
    }
    if (s.length > 0 && s[0].equals("ui")) {
      return console(s);
    }
    if (s.length < 2 || !s[0].equals("v1")) {
      return Required.of(Policy.Action.ADMIN, "");
    }
    return switch (s[1]) {
      case "agent", "catalog", "health", "kv", "status" -> Required.of(Kind.DELEGATED); // the Consul API
      case "namespaces" -> namespaces(s, read);
      case "prometheus" -> Required.of(Kind.DELEGATED); // reads ?ns=: checked by PrometheusSdService
      // a node asking a peer for its call statistics of a namespace (for a query it authorized)
      case "internal" -> s.length >= 4 && s[2].equals("telemetry") && read
          ? Required.internal(Policy.Action.READ, s[3]) : Required.of(Policy.Action.ADMIN, "");
      default -> Required.of(Policy.Action.ADMIN, ""); // tokens, audit, cluster, and anything new
    };
  }

  private static Required namespaces(String[] s, boolean read) {
    if (s.length == 2) {
      return read ? Required.of(Kind.AUTHENTICATED) : Required.of(Policy.Action.ADMIN, "");
    }
    String ns = s[2];
    if (s.length == 3) {
      // the namespace itself: creating, changing and deleting namespaces is the admin's
      return read ? Required.of(Policy.Action.READ, ns) : Required.of(Policy.Action.ADMIN, "");
    }
    return Required.of(read ? Policy.Action.READ : Policy.Action.WRITE, ns);
  }

  /**
   * Console pages read. Pages of one namespace need read on it; pages that span namespaces need
   * read on all; the cluster page is the admin's. Its writes go through the REST API with the same
   * token, which checks them again as writes.
   */
  private static Required console(String[] s) {
    if (s.length >= 2 && s[1].equals("events")) {
      return Required.of(Kind.AUTHENTICATED);
    }
    if (s.length >= 2 && s[1].equals("cluster") || s.length >= 3 && s[1].equals("fragments") && s[2].equals("cluster")) {
      return Required.of(Policy.Action.ADMIN, "");
    }
    int at = s.length >= 2 && s[1].equals("fragments") ? 2 : 1;
    if (s.length > at + 1 && (s[at].equals("services") || s[at].equals("configs"))
        && !s[at + 1].equals("new") && !s[at + 1].equals("validate")) {
      return Required.of(Policy.Action.READ, s[at + 1]);
    }
    return Required.of(Policy.Action.READ, "*");
  }

  private static String[] segments(String path) {
    String p = path.startsWith("/") ? path.substring(1) : path;
    int q = p.indexOf('?');
    if (q >= 0) {
      p = p.substring(0, q);
    }
    return p.isEmpty() ? new String[0] : p.split("/");
  }
}
