package io.lodestar.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.lodestar.client.governance.RouteDecision;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.HashMap;
import java.util.Map;

/**
 * Client and server spans, only loaded when {@link Tracing#OTEL}. Uses the application's
 * {@link GlobalOpenTelemetry} and only stable opentelemetry-api calls (the ones Spring Boot 3.5's
 * OpenTelemetry 1.49 has). Methods take and return {@code Object} for spans so callers never name
 * an OpenTelemetry type.
 */
final class OtelSpans {
  private static final String SCOPE = "io.lodestar.grpc";
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();

  private static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private OtelSpans() {}

  private static Tracer tracer() {
    return GlobalOpenTelemetry.getTracer(SCOPE);
  }

  /** The parent of a call: the application's current span if it has one, else the served call's. */
  private static Context parent(String traceparent, String tracestate) {
    Context current = Context.current();
    if (Span.fromContext(current).getSpanContext().isValid() || traceparent == null) {
      return current;
    }
    Map<String, String> carrier = new HashMap<>();
    carrier.put("traceparent", traceparent);
    if (tracestate != null) {
      carrier.put("tracestate", tracestate);
    }
    return W3C.extract(current, carrier, MAP);
  }

  /**
   * Starts the client span of an outgoing call and writes its trace context into the headers; null
   * when OpenTelemetry records nothing (no SDK installed), so the caller passes the served one on.
   */
  static Object startClient(MethodDescriptor<?, ?> method, Metadata headers) {
    Span span = tracer().spanBuilder(method.getFullMethodName()).setSpanKind(SpanKind.CLIENT)
        .setParent(parent(TraceHeaders.PARENT.get(), TraceHeaders.STATE.get()))
        .setAttribute("rpc.system", "grpc")
        .setAttribute("rpc.method", method.getFullMethodName()).startSpan();
    if (!span.getSpanContext().isValid()) {
      return null;
    }
    W3C.inject(Context.root().with(span), headers, (h, k, v) -> h.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    return span;
  }

  /** Ends a client span with the call's status and Lodestar's routing decision (null: none made). */
  static void endClient(Object started, Status status, RouteDecision decision) {
    Span span = (Span) started;
    if (decision != null) {
      routing(span, decision);
    }
    end(span, status);
  }

  /** Starts the server span of an inbound call, a child of the caller's span in its headers. */
  static Object startServer(MethodDescriptor<?, ?> method, Metadata headers, String lane) {
    Context parent = parent(headers.get(TraceHeaders.TRACEPARENT), headers.get(TraceHeaders.TRACESTATE));
    var builder = tracer().spanBuilder(method.getFullMethodName()).setSpanKind(SpanKind.SERVER)
        .setParent(parent)
        .setAttribute("rpc.system", "grpc")
        .setAttribute("rpc.method", method.getFullMethodName());
    if (lane != null) {
      builder.setAttribute("lodestar.lane", lane);
    }
    Span span = builder.startSpan();
    return span.getSpanContext().isValid() ? span : null;
  }

  /** The W3C headers of a span, for the calls made while serving it: {traceparent, tracestate}. */
  static String[] headersOf(Object started) {
    Map<String, String> carrier = new HashMap<>();
    W3C.inject(Context.root().with((Span) started), carrier, Map::put);
    return new String[] {carrier.get("traceparent"), carrier.get("tracestate")};
  }

  static void endServer(Object started, Status status) {
    end((Span) started, status);
  }

  private static void routing(Span span, RouteDecision d) {
    span.setAttribute("lodestar.instance", d.instance());
    if (d.rule() != null) {
      span.setAttribute("lodestar.route.rule", d.rule());
    }
    if (d.subset() != null) {
      span.setAttribute("lodestar.route.subset", d.subset());
    }
    if (d.lane() != null) {
      span.setAttribute("lodestar.lane", d.lane());
    }
  }

  private static void end(Span span, Status status) {
    span.setAttribute("rpc.grpc.status_code", (long) status.getCode().value());
    if (!status.isOk()) {
      span.setStatus(StatusCode.ERROR, status.getCode().name());
    }
    span.end();
  }
}
