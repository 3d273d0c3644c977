package io.lodestar.server.auth;

import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.QuotaUsage;
import io.lodestar.core.auth.Policy;

/**
 * What each message of the SDK stream needs. One stream carries requests for many namespaces, so
 * the check is per message, not per stream: a refused request is answered with an Error
 * (permission_denied, naming the permission) and the stream stays open for the others.
 */
public final class StreamPermissions {
  private StreamPermissions() {}

  /** Throws PERMISSION_DENIED when the principal may not make this request. */
  public static void check(Authorizer authorizer, Principal p, ClientMessage m) {
    switch (m.getBodyCase()) {
      case REGISTER -> authorizer.check(p, Policy.Action.WRITE, m.getRegister().getNamespace());
      case DEREGISTER -> authorizer.check(p, Policy.Action.WRITE, m.getDeregister().getNamespace());
      case SUBSCRIBE -> authorizer.check(p, Policy.Action.READ, m.getSubscribe().getNamespace());
      case FETCH -> authorizer.check(p, Policy.Action.READ, m.getFetch().getNamespace());
      case CONFIG_SUBSCRIBE -> authorizer.check(p, Policy.Action.READ, m.getConfigSubscribe().getNamespace());
      case QUOTA_REPORT -> {
        for (QuotaUsage u : m.getQuotaReport().getUsagesList()) {
          authorizer.check(p, Policy.Action.READ, u.getNamespace());
        }
      }
      case CALL_STATS -> {
        for (io.lodestar.api.v1.EdgeStats e : m.getCallStats().getEdgesList()) {
          authorizer.check(p, Policy.Action.READ, e.getNamespace()); // statistics of calls it may make
        }
      }
      // hello, heartbeats, unsubscribes and goodbye touch only what this stream already holds
      default -> { }
    }
  }
}
