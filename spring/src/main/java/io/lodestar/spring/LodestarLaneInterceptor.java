package io.lodestar.spring;

import java.io.IOException;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

/** Sends the current request's lane ({@link LodestarLane}) on with an outgoing call, unless it names one. */
public class LodestarLaneInterceptor implements ClientHttpRequestInterceptor {
  @Override
  public ClientHttpResponse intercept(HttpRequest request, byte[] body, ClientHttpRequestExecution execution)
      throws IOException {
    String lane = LodestarLane.current();
    if (lane != null && !request.getHeaders().containsKey(LodestarLane.HEADER)) {
      request.getHeaders().set(LodestarLane.HEADER, lane);
    }
    return execution.execute(request, body);
  }
}
