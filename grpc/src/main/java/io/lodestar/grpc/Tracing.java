package io.lodestar.grpc;

/**
 * Whether the application has OpenTelemetry. It is an optional dependency: without it no class
 * that names an OpenTelemetry type is loaded and the interceptors only pass trace context on.
 */
final class Tracing {
  static final boolean OTEL = present("io.opentelemetry.api.GlobalOpenTelemetry");

  private Tracing() {}

  private static boolean present(String className) {
    try {
      Class.forName(className, false, Tracing.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
