package io.lodestar.grpc;

import io.grpc.CallOptions;
import io.grpc.Status;
import io.lodestar.client.Instance;
import io.lodestar.client.governance.Governor;
import io.lodestar.client.governance.ErrorKind;
import io.lodestar.client.route.CallContext;

/**
 * One call's meeting point between {@link LodestarClientInterceptor} (which knows the headers, the
 * start and the end of the call) and the governance picker (which knows the instance it chose).
 * Travels in the call's {@link CallOptions}. The picker may run more than once for a call (while
 * the channel waits for a connection); the last choice is the one that carried the call.
 */
final class CallRecord {
  static final CallOptions.Key<CallRecord> KEY = CallOptions.Key.create("lodestar.call-record");

  volatile CallContext context;
  volatile long startNanos;
  private volatile Governor governor;
  private volatile Instance chosen;

  void chose(Governor governor, Instance instance) {
    this.governor = governor;
    this.chosen = instance;
  }

  /** Feeds the call's end to breakers and the adaptive balancer; nothing when no instance was chosen. */
  void report(Status status) {
    Governor g = governor;
    Instance i = chosen;
    if (g == null || i == null) {
      return;
    }
    CallContext ctx = context == null ? CallContext.empty() : context;
    g.report(i, ctx, errorKind(status), System.nanoTime() - startNanos);
  }

  /** Why the call went where it went, for its span; null when no instance was chosen. */
  io.lodestar.client.governance.RouteDecision decision() {
    Governor g = governor;
    Instance i = chosen;
    if (g == null || i == null) {
      return null;
    }
    return g.explain(i.namespace(), i.service(), context == null ? CallContext.empty() : context, i);
  }

  /** The failure kind of an instance failure, for the call statistics; null otherwise. */
  static ErrorKind errorKind(Status status) {
    if (!isInstanceFailure(status)) {
      return null;
    }
    return switch (status.getCode()) {
      case DEADLINE_EXCEEDED -> ErrorKind.TIMEOUT;
      case UNAVAILABLE -> ErrorKind.UNAVAILABLE;
      default -> ErrorKind.SERVER_ERROR;
    };
  }

  /**
   * Statuses that say something about the server that answered (or failed to): unreachable, timed
   * out, crashed, overloaded. Application answers (NOT_FOUND, INVALID_ARGUMENT, ...) are successes
   * from the balancer's point of view, and a call the client cancelled says nothing about anyone.
   */
  static boolean isInstanceFailure(Status status) {
    return switch (status.getCode()) {
      case UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED, DATA_LOSS -> true;
      default -> false;
    };
  }
}
