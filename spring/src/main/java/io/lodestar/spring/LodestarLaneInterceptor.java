package io.lodestar.spring;

import java.io.IOException;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

/**
 * Sends the current request's lane ({@link LodestarLane}) on with an outgoing call, unless it names
 * one, and its W3C trace context ({@link LodestarTracing}). With OpenTelemetry present the call
 * gets a client span; {@link LodestarCallReporter} adds the routing decision to it.
 */
public class LodestarLaneInterceptor implements ClientHttpRequestInterceptor {
  @Override
  public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution)
      throws IOException {
    String lane = LodestarLane.current();
    if (lane != null && !request.getHeaders().containsKey(LodestarLane.HEADER)) {
      request.getHeaders().set(LodestarLane.HEADER, lane);
    }
    if (request.getHeaders().containsKey(LodestarTracing.TRACEPARENT)) {
      return execution.execute(request, body);  // the caller set its own trace context
    }
    Object span = LodestarTracing.OTEL ? OtelHttpSpans.startClient(request.getMethod().name(),
        String.valueOf(request.getURI().getHost()), request.getHeaders()::set) : null;
    if (span == null) {
      String[] served = LodestarTracing.served();
      if (served != null) {
        request.getHeaders().set(LodestarTracing.TRACEPARENT, served[0]);
        if (served[1] != null) {
          request.getHeaders().set(LodestarTracing.TRACESTATE, served[1]);
        }
      }
      return execution.execute(request, body);
    }
    try {
      ClientHttpResponse response = execution.execute(request, body);
      OtelHttpSpans.endClient(span, response.getStatusCode().value(), null);
      return response;
    } catch (IOException | RuntimeException e) {
      OtelHttpSpans.endClient(span, 0, e);
      throw e;
    }
  }
}
