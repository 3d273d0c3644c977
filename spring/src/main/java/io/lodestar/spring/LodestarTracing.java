package io.lodestar.spring;

/**
 * The W3C trace context ({@code traceparent}, {@code tracestate}) of the request this thread
 * serves, kept beside its lane ({@link LodestarLane}) by {@link LodestarLaneFilter} and written on
 * every outgoing call by {@link LodestarLaneInterceptor}. When the application has OpenTelemetry
 * ({@link #OTEL}; an optional dependency) it is the context of the server span Lodestar opened
 * ({@link OtelHttpSpans}); without it the inbound pair passes through unchanged.
 */
final class LodestarTracing {
  static final String TRACEPARENT = "traceparent";
  static final String TRACESTATE = "tracestate";
  static final boolean OTEL = present("io.opentelemetry.api.GlobalOpenTelemetry");
  private static final ThreadLocal<String[]> SERVED = new ThreadLocal<>();

  private LodestarTracing() {}

  /** {traceparent, tracestate (may be null)} of the request being served, or null. */
  static String[] served() {
    return SERVED.get();
  }

  static void serve(String traceparent, String tracestate) {
    if (traceparent == null || traceparent.isEmpty()) {
      SERVED.remove();
    } else {
      SERVED.set(new String[] {traceparent, tracestate});
    }
  }

  static void restore(String[] previous) {
    if (previous == null) {
      SERVED.remove();
    } else {
      SERVED.set(previous);
    }
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, LodestarTracing.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
