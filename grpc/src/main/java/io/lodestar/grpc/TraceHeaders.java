package io.lodestar.grpc;

import io.grpc.Context;
import io.grpc.Metadata;

/**
 * W3C trace context ({@code traceparent}, {@code tracestate}) on the path the lane takes: the
 * server interceptor puts the served call's pair into the gRPC {@link Context}, the client
 * interceptor writes it on every call the handler makes. With OpenTelemetry present the pair is
 * the one of the span Lodestar opened ({@link OtelSpans}); without it, the inbound pair passes
 * through unchanged, so a trace is not broken by a hop that does not record.
 */
final class TraceHeaders {
  static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> TRACESTATE = Metadata.Key.of("tracestate", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<String> PARENT = Context.key("lodestar.traceparent");
  static final Context.Key<String> STATE = Context.key("lodestar.tracestate");

  private TraceHeaders() {}

  /** The served call's context with this trace context in it (unchanged when traceparent is null). */
  static Context with(Context context, String traceparent, String tracestate) {
    if (traceparent == null || traceparent.isEmpty()) {
      return context;
    }
    Context c = context.withValue(PARENT, traceparent);
    return tracestate == null || tracestate.isEmpty() ? c : c.withValue(STATE, tracestate);
  }

  /** Writes the served call's trace context on an outgoing call that has none of its own. */
  static void forward(Metadata headers) {
    String parent = PARENT.get();
    if (parent == null || headers.containsKey(TRACEPARENT)) {
      return;
    }
    headers.put(TRACEPARENT, parent);
    String state = STATE.get();
    if (state != null) {
      headers.put(TRACESTATE, state);
    }
  }
}
