package io.lodestar.spring;

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
import java.util.function.BiConsumer;

/**
 * Server and client spans of HTTP calls, only loaded when {@link LodestarTracing#OTEL}. Uses the
 * application's {@link GlobalOpenTelemetry} and only stable opentelemetry-api calls that Spring
 * Boot 3.5's OpenTelemetry 1.49 has. Spans are passed as {@code Object} so callers never name an
 * OpenTelemetry type. The client span of the call this thread is making is kept so that
 * {@link LodestarCallReporter} can put the routing decision on it.
 */
final class OtelHttpSpans {
  private static final String SCOPE = "io.lodestar.spring";
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  private static final ThreadLocal<Span> CLIENT = new ThreadLocal<>();
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

  private OtelHttpSpans() {}

  private static Tracer tracer() {
    return GlobalOpenTelemetry.getTracer(SCOPE);
  }

  /** The application's current span if it has one, else the given W3C context, else none. */
  private static Context parent(String[] w3c) {
    Context current = Context.current();
    if (Span.fromContext(current).getSpanContext().isValid() || w3c == null) {
      return current;
    }
    Map<String, String> carrier = new HashMap<>();
    carrier.put(LodestarTracing.TRACEPARENT, w3c[0]);
    if (w3c[1] != null) {
      carrier.put(LodestarTracing.TRACESTATE, w3c[1]);
    }
    return W3C.extract(current, carrier, MAP);
  }

  /** A server span for an inbound request, or null when OpenTelemetry records nothing. */
  static Object startServer(String method, String path, String[] inbound, String lane) {
    var b = tracer().spanBuilder(method).setSpanKind(SpanKind.SERVER).setParent(parent(inbound))
        .setAttribute("http.request.method", method).setAttribute("url.path", path);
    if (lane != null) {
      b.setAttribute("lodestar.lane", lane);
    }
    Span span = b.startSpan();
    return span.getSpanContext().isValid() ? span : null;
  }

  /** {traceparent, tracestate} of a span, for the calls made while it is served. */
  static String[] headersOf(Object span) {
    Map<String, String> carrier = new HashMap<>();
    W3C.inject(Context.root().with((Span) span), carrier, Map::put);
    return new String[] {carrier.get(LodestarTracing.TRACEPARENT), carrier.get(LodestarTracing.TRACESTATE)};
  }

  static void endServer(Object span, int status, Throwable error) {
    end((Span) span, status, error, 500);
  }

  /**
   * A client span for an outgoing call, a child of the current span or the served request, with its
   * trace context written through {@code header}; null when OpenTelemetry records nothing.
   */
  static Object startClient(String method, String host, BiConsumer<String, String> header) {
    Span span = tracer().spanBuilder(method).setSpanKind(SpanKind.CLIENT)
        .setParent(parent(LodestarTracing.served()))
        .setAttribute("http.request.method", method).setAttribute("server.address", host).startSpan();
    if (!span.getSpanContext().isValid()) {
      return null;
    }
    W3C.inject(Context.root().with(span), header, (h, k, v) -> h.accept(k, v));
    CLIENT.set(span);
    return span;
  }

  static void endClient(Object span, int status, Throwable error) {
    CLIENT.remove();
    end((Span) span, status, error, 400);
  }

  /** Puts Lodestar's routing decision on the client span this thread has open, if any. */
  static void decided(RouteDecision d) {
    Span span = CLIENT.get();
    if (span == null) {
      return;
    }
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

  private static void end(Span span, int status, Throwable error, int errorFrom) {
    if (status > 0) {
      span.setAttribute("http.response.status_code", (long) status);
    }
    if (error != null) {
      span.recordException(error);
      span.setStatus(StatusCode.ERROR, error.getClass().getName());
    } else if (status >= errorFrom) {
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }
}
