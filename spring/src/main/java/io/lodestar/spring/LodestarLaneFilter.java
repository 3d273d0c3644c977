package io.lodestar.spring;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Puts an inbound request's {@code x-lodestar-lane} in {@link LodestarLane}, and its W3C trace
 * context in {@link LodestarTracing}, while it is served. With OpenTelemetry present the request
 * gets a server span, and the calls it makes are its children (docs/observability.md#traces).
 */
public class LodestarLaneFilter implements Filter {
  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (!(request instanceof HttpServletRequest http)) {
      chain.doFilter(request, response);
      return;
    }
    String lane = http.getHeader(LodestarLane.HEADER);
    String[] inbound = w3c(http);
    Object span = LodestarTracing.OTEL
        ? OtelHttpSpans.startServer(http.getMethod(), http.getRequestURI(), inbound, lane) : null;
    String previousLane = LodestarLane.current();
    String[] previousTrace = LodestarTracing.served();
    if (lane != null && !lane.isEmpty()) {
      LodestarLane.set(lane);
    }
    String[] served = span != null ? OtelHttpSpans.headersOf(span) : inbound;
    LodestarTracing.serve(served == null ? null : served[0], served == null ? null : served[1]);
    Throwable error = null;
    try {
      chain.doFilter(request, response);
    } catch (IOException | ServletException | RuntimeException | Error e) {
      error = e;
      throw e;
    } finally {
      LodestarLane.set(previousLane);
      LodestarTracing.restore(previousTrace);
      if (span != null) {
        OtelHttpSpans.endServer(span, response instanceof HttpServletResponse r ? r.getStatus() : 0, error);
      }
    }
  }

  private static String[] w3c(HttpServletRequest http) {
    String parent = http.getHeader(LodestarTracing.TRACEPARENT);
    return parent == null || parent.isEmpty() ? null : new String[] {parent, http.getHeader(LodestarTracing.TRACESTATE)};
  }
}
