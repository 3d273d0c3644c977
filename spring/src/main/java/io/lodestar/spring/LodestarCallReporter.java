package io.lodestar.spring;

import io.lodestar.client.governance.Governor;
import io.lodestar.client.governance.ErrorKind;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.loadbalancer.CompletionContext;
import org.springframework.cloud.client.loadbalancer.LoadBalancerLifecycle;
import org.springframework.cloud.client.loadbalancer.Request;
import org.springframework.cloud.client.loadbalancer.Response;
import org.springframework.cloud.client.loadbalancer.ResponseData;
import org.springframework.cloud.client.loadbalancer.TimedRequestContext;

/**
 * Reports each load-balanced call's outcome and latency to the Governor, so instance breakers,
 * method breakers, least-request counts and the adaptive balancer learn from real traffic. A
 * failure is an exception (connect refused, timeout) or a 5xx answer; a 4xx says the request was
 * wrong, not the instance. Latency runs from {@code onStartRequest} (Spring's own timed context,
 * as its Micrometer lifecycle uses it) to completion.
 */
public class LodestarCallReporter implements LoadBalancerLifecycle<Object, Object, ServiceInstance> {
  private final Governor governor;

  public LodestarCallReporter(Governor governor) {
    this.governor = governor;
  }

  @Override
  public boolean supports(Class requestContextClass, Class responseClass, Class serverTypeClass) {
    return ServiceInstance.class.isAssignableFrom(serverTypeClass);
  }

  @Override
  public void onStart(Request<Object> request) {
    // nothing chosen yet
  }

  @Override
  public void onStartRequest(Request<Object> request, Response<ServiceInstance> lbResponse) {
    if (request.getContext() instanceof TimedRequestContext timed) {
      timed.setRequestStartTime(System.nanoTime());
    }
  }

  @Override
  public void onComplete(CompletionContext<Object, ServiceInstance, Object> done) {
    Response<ServiceInstance> lb = done.getLoadBalancerResponse();
    if (lb == null || !(lb.getServer() instanceof LodestarServiceInstance chosen)) {
      return;  // no instance, or one another balancer chose
    }
    if (done.status() == CompletionContext.Status.DISCARD) {
      return;
    }
    long latency = 0;
    Request<Object> request = done.getLoadBalancerRequest();
    if (request != null && request.getContext() instanceof TimedRequestContext timed && timed.getRequestStartTime() > 0) {
      latency = System.nanoTime() - timed.getRequestStartTime();
    }
    io.lodestar.client.route.CallContext ctx = SpringCallContexts.of(request);
    governor.report(chosen.instance(), ctx, errorKind(done), latency);
    if (LodestarTracing.OTEL) {
      // the blocking clients complete on the thread that made the call, inside its client span
      OtelHttpSpans.decided(governor.explain(chosen.instance().namespace(), chosen.instance().service(), ctx,
          chosen.instance()));
    }
  }

  /** Why the call failed, for the call statistics; null for a success. */
  private static ErrorKind errorKind(CompletionContext<Object, ServiceInstance, Object> done) {
    if (done.status() == CompletionContext.Status.FAILED) {
      Throwable t = done.getThrowable();
      for (Throwable c = t; c != null; c = c.getCause()) {
        if (c instanceof java.net.SocketTimeoutException || c instanceof java.util.concurrent.TimeoutException
            || c instanceof java.net.http.HttpTimeoutException) {
          return ErrorKind.TIMEOUT;
        }
        if (c instanceof java.net.ConnectException || c instanceof java.net.NoRouteToHostException) {
          return ErrorKind.UNAVAILABLE;
        }
      }
      return ErrorKind.ERROR;
    }
    return isServerError(done.getClientResponse()) ? ErrorKind.SERVER_ERROR : null;
  }

  private static boolean isServerError(Object response) {
    return response instanceof ResponseData data && data.getHttpStatus() != null && data.getHttpStatus().is5xxServerError();
  }
}
