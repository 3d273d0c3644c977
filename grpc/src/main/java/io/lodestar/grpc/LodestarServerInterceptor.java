package io.lodestar.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * The server side of lanes (full-link gray release, docs/grpc.md): an inbound call's
 * {@code x-lodestar-lane} goes into the gRPC {@link Context} its handler runs in, so every call the
 * handler makes on a channel with {@link LodestarClientInterceptor} carries the same lane on. W3C
 * trace context ({@code traceparent}, {@code tracestate}) travels the same way; when the
 * application has OpenTelemetry, each call served gets a server span (docs/observability.md#traces).
 *
 * <pre>{@code
 * Server server = ServerBuilder.forPort(port).addService(ServerInterceptors.intercept(impl,
 *     new LodestarServerInterceptor())).build();
 * }</pre>
 */
public final class LodestarServerInterceptor implements ServerInterceptor {
  /** The lane of the call being served, or null. */
  public static final Context.Key<String> LANE = Context.key("lodestar.lane");
  static final Metadata.Key<String> LANE_HEADER =
      Metadata.Key.of(io.lodestar.client.governance.Governor.LANE_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String lane = headers.get(LANE_HEADER);
    Context context = lane == null || lane.isEmpty() ? Context.current() : Context.current().withValue(LANE, lane);
    Object span = Tracing.OTEL ? OtelSpans.startServer(call.getMethodDescriptor(), headers, LANE.get(context)) : null;
    if (span == null) {
      // no span of ours: the caller's trace context passes on as it came
      context = TraceHeaders.with(context, headers.get(TraceHeaders.TRACEPARENT), headers.get(TraceHeaders.TRACESTATE));
    } else {
      String[] own = OtelSpans.headersOf(span);
      context = TraceHeaders.with(context, own[0], own[1]);
      call = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
        @Override
        public void close(Status status, Metadata trailers) {
          OtelSpans.endServer(span, status);
          super.close(status, trailers);
        }
      };
      // a call the client cancels is never closed by the handler: its span ends here instead
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          Contexts.interceptCall(context, call, headers, next)) {
        @Override
        public void onCancel() {
          OtelSpans.endServer(span, Status.CANCELLED);
          super.onCancel();
        }
      };
    }
    return Contexts.interceptCall(context, call, headers, next);
  }
}
