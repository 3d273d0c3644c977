package io.lodestar.spring;

import io.lodestar.client.route.CallContext;
import java.util.List;
import java.util.Map;
import org.springframework.cloud.client.loadbalancer.HintRequestContext;
import org.springframework.cloud.client.loadbalancer.Request;
import org.springframework.cloud.client.loadbalancer.RequestData;
import org.springframework.cloud.client.loadbalancer.RequestDataContext;

/**
 * The route context of a Spring Cloud LoadBalancer request: the URL path as the method, the request
 * headers (first value of each), and the LoadBalancer hint as the call label {@code hint}. The
 * caller's own labels ({@code lodestar.discovery.metadata.*}) are the Governor's, matched by rules'
 * {@code caller} conditions.
 */
final class SpringCallContexts {
  private SpringCallContexts() {}

  static CallContext of(Request<?> request) {
    Object context = request == null ? null : request.getContext();
    String lane = LodestarLane.current();
    if (!(context instanceof HintRequestContext hinted)) {
      return lane == null ? CallContext.empty() : CallContext.builder().header(LodestarLane.HEADER, lane).build();
    }
    CallContext.Builder b = CallContext.builder();
    boolean laneSet = false;
    String hint = hinted.getHint();
    if (hint != null && !hint.isEmpty() && !"default".equals(hint)) {
      b.label("hint", hint);
    }
    if (context instanceof RequestDataContext rdc && rdc.getClientRequest() != null) {
      RequestData data = rdc.getClientRequest();
      if (data.getUrl() != null && data.getUrl().getRawPath() != null) {
        b.method(data.getUrl().getRawPath());
      }
      if (data.getHeaders() != null) {
        for (Map.Entry<String, List<String>> h : data.getHeaders().headerSet()) {
          if (!h.getValue().isEmpty()) {
            b.header(h.getKey(), h.getValue().get(0));
            laneSet |= h.getKey().equalsIgnoreCase(LodestarLane.HEADER);
          }
        }
      }
    }
    // the lane of the request being served travels on, even before the interceptor set the header
    if (lane != null && !laneSet) {
      b.header(LodestarLane.HEADER, lane);
    }
    return b.build();
  }
}
