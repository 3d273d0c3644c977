package io.lodestar.server.auth;

import io.lodestar.core.auth.Policy;
import java.util.List;

/**
 * Who made a request: a token's name and grants, or anonymous (no token). With auth off the
 * anonymous principal may do everything, as before auth existed; with it on, nothing.
 */
public record Principal(String name, List<Policy> policies, boolean token) {
  public static final String ANONYMOUS_NAME = "anonymous";
  public static final Principal ANONYMOUS = new Principal(ANONYMOUS_NAME, List.of(), false);

  public boolean allows(Policy.Action action, String namespace) {
    for (Policy p : policies) {
      if (p.allows(action, namespace)) {
        return true;
      }
    }
    return false;
  }
}
