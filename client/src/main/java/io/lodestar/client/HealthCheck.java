package io.lodestar.client;

import io.lodestar.api.v1.HttpCheck;
import io.lodestar.api.v1.TcpCheck;
import java.time.Duration;
import java.util.Objects;

/**
 * How the server probes a persistent instance ({@link RegistrationSpec.Builder#check}): a TCP
 * connect to the instance's address, or an HTTP GET that must answer 2xx. Immutable.
 */
public final class HealthCheck {
  private final String httpPath;  // null: TCP
  private final int intervalSeconds;  // 0: the server's default (10 s)
  private final int timeoutSeconds;   // 0: the server's default (2 s)

  private HealthCheck(String httpPath, int intervalSeconds, int timeoutSeconds) {
    this.httpPath = httpPath;
    this.intervalSeconds = intervalSeconds;
    this.timeoutSeconds = timeoutSeconds;
  }

  /** A TCP connect to the instance's host and port. */
  public static HealthCheck tcp() {
    return new HealthCheck(null, 0, 0);
  }

  /** A GET of this path on the instance ("/health"), or of a full http(s) URL; 2xx is healthy. */
  public static HealthCheck http(String pathOrUrl) {
    if (pathOrUrl == null || pathOrUrl.isBlank()) {
      throw new IllegalArgumentException("check.path must not be empty");
    }
    if (!pathOrUrl.startsWith("/") && !pathOrUrl.startsWith("http://") && !pathOrUrl.startsWith("https://")) {
      throw new IllegalArgumentException("check.path must start with / or be an http(s) URL, got " + pathOrUrl);
    }
    return new HealthCheck(pathOrUrl, 0, 0);
  }

  /** Time between probes, 1 s to 1 h. Default: the server's (10 s). */
  public HealthCheck interval(Duration interval) {
    return new HealthCheck(httpPath, seconds("check.interval", interval, 3600), timeoutSeconds);
  }

  /** Time a probe may take, 1 s to 60 s. Default: the server's (2 s). */
  public HealthCheck timeout(Duration timeout) {
    return new HealthCheck(httpPath, intervalSeconds, seconds("check.timeout", timeout, 60));
  }

  /** The HTTP path or URL, or null for a TCP check. */
  public String httpPath() {
    return httpPath;
  }

  io.lodestar.api.v1.HealthCheck toProto() {
    io.lodestar.api.v1.HealthCheck.Builder b = io.lodestar.api.v1.HealthCheck.newBuilder()
        .setIntervalSeconds(intervalSeconds).setTimeoutSeconds(timeoutSeconds);
    if (httpPath == null) {
      b.setTcp(TcpCheck.getDefaultInstance());
    } else if (httpPath.startsWith("/")) {
      b.setHttp(HttpCheck.newBuilder().setPath(httpPath));
    } else {
      b.setHttp(HttpCheck.newBuilder().setUrl(httpPath));
    }
    return b.build();
  }

  private static int seconds(String field, Duration d, int max) {
    Objects.requireNonNull(d, field);
    long s = d.toSeconds();
    if (s < 1 || s > max || d.toNanos() % 1_000_000_000L != 0) {
      throw new IllegalArgumentException(field + " must be whole seconds within 1–" + max + ", got " + d);
    }
    return (int) s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HealthCheck h && Objects.equals(httpPath, h.httpPath) && intervalSeconds == h.intervalSeconds
        && timeoutSeconds == h.timeoutSeconds;
  }

  @Override
  public int hashCode() {
    return Objects.hash(httpPath, intervalSeconds, timeoutSeconds);
  }

  @Override
  public String toString() {
    return (httpPath == null ? "tcp" : "http " + httpPath) + (intervalSeconds == 0 ? "" : " every " + intervalSeconds + " s");
  }
}
