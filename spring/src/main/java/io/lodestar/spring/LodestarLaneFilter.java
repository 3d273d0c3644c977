package io.lodestar.spring;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;

/** Puts an inbound request's {@code x-lodestar-lane} in {@link LodestarLane} while it is served. */
public class LodestarLaneFilter implements Filter {
  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    String lane = request instanceof HttpServletRequest http ? http.getHeader(LodestarLane.HEADER) : null;
    if (lane == null || lane.isEmpty()) {
      chain.doFilter(request, response);
      return;
    }
    String previous = LodestarLane.current();
    LodestarLane.set(lane);
    try {
      chain.doFilter(request, response);
    } finally {
      LodestarLane.set(previous);
    }
  }
}
