package io.lodestar.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * Reports every call's status and latency to Lodestar's governance (instance breakers, method
 * breakers, the adaptive balancer, least-request counts), and passes the call's metadata into the
 * route context, for channels on a {@code lodestar:} target:
 *
 * <pre>{@code
 * ManagedChannel ch = ManagedChannelBuilder.forTarget("lodestar:///greeter")
 *     .intercept(new LodestarClientInterceptor()).usePlaintext().build();
 * }</pre>
 *
 * The governance balancer picks the instance and records it in the call's options; this
 * interceptor measures from {@code start} to {@code onClose}. Without it, calls are still routed
 * and balanced, but breakers and adaptive weights learn nothing from them. It also carries the
 * lane of the call being served ({@link LodestarServerInterceptor}) on as {@code x-lodestar-lane},
 * and its W3C trace context; with OpenTelemetry present, each call gets a client span carrying the
 * routing decision (route rule, subset, lane, instance: docs/observability.md#traces).
 */
public final class LodestarClientInterceptor implements ClientInterceptor {
  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    CallRecord record = new CallRecord();
    ClientCall<Q, R> call = next.newCall(method, options.withOption(CallRecord.KEY, record));
    return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        // a lane travels on: the one of the call being served (LodestarServerInterceptor), unless set
        String lane = LodestarServerInterceptor.LANE.get();
        if (lane != null && !headers.containsKey(LodestarServerInterceptor.LANE_HEADER)) {
          headers.put(LodestarServerInterceptor.LANE_HEADER, lane);
        }
        // the trace goes on: a client span of ours when OpenTelemetry records, else the served call's
        Object span = Tracing.OTEL && !headers.containsKey(TraceHeaders.TRACEPARENT)
            ? OtelSpans.startClient(method, headers) : null;
        if (span == null) {
          TraceHeaders.forward(headers);
        }
        record.context = GrpcCallContexts.of(method, headers);
        record.startNanos = System.nanoTime();
        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onClose(Status status, Metadata trailers) {
            record.report(status);
            if (span != null) {
              OtelSpans.endClient(span, status, record.decision());
            }
            super.onClose(status, trailers);
          }
        }, headers);
      }
    };
  }
}
