package io.lodestar.server.auth;

import io.lodestar.core.auth.Policy;
import java.util.List;

/**
 * Who made a request: a token's name and grants, anonymous (no token), or another member of the
 * cluster ({@link #CLUSTER}, proven by {@link ClusterCredential}). With auth off the anonymous
 * principal may do everything, as before auth existed; with it on, nothing. The cluster principal
 * holds no grant: it may call the cluster-internal endpoints and nothing else
 * ({@link RestPermissions.Kind#INTERNAL}).
 */
public record Principal(String name, List<Policy> policies, boolean token) {
  public static final String ANONYMOUS_NAME = "anonymous";
  public static final Principal ANONYMOUS = new Principal(ANONYMOUS_NAME, List.of(), false);
  /** A member of this node's cluster, calling an internal endpoint. */
  public static final Principal CLUSTER = new Principal("cluster member", List.of(), false);

  public boolean allows(Policy.Action action, String namespace) {
    for (Policy p : policies) {
      if (p.allows(action, namespace)) {
        return true;
      }
    }
    return false;
  }

  /** Whether this is the cluster principal (no token can be it: a token's principal has {@code token}). */
  public boolean clusterMember() {
    return this.equals(CLUSTER);
  }
}
