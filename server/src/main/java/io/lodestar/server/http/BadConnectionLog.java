package io.lodestar.server.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Garbage on the port (a port scanner, a TLS client, a broken HTTP/2 peer) makes Netty and Armeria
 * log a WARN with a 30-line stack trace per connection: a hundred bad connections bury a day of
 * useful logs. This Logback filter drops those events and logs instead one line per bad
 * connection (who, and what was wrong), at most {@link #LINES_PER_WINDOW} per
 * {@link #WINDOW_NANOS}; the next line that gets through says how many were left out meanwhile.
 * Installed by {@link io.lodestar.server.LogSetup} (or a logback.xml); the decision is a name check,
 * so other events cost nothing.
 */
public final class BadConnectionLog extends TurboFilter {
  static final int LINES_PER_WINDOW = 5;
  static final long WINDOW_NANOS = 10_000_000_000L;
  private static final org.slf4j.Logger log = LoggerFactory.getLogger("io.lodestar.server.BadConnection");

  private final AtomicLong windowStart = new AtomicLong(System.nanoTime());
  private final AtomicInteger inWindow = new AtomicInteger();
  private final AtomicInteger suppressed = new AtomicInteger();

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (logger == null || !level.isGreaterOrEqual(Level.WARN) || !isConnectionLogger(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    Throwable cause = t != null ? t : lastThrowable(params);
    if (!tryAcquire()) {
      suppressed.incrementAndGet();
      return FilterReply.DENY;
    }
    int left = suppressed.getAndSet(0);
    log.warn("Bad connection {}: {}{}", remote(params), cause == null ? String.valueOf(format) : describe(cause),
        left == 0 ? "" : " (" + left + " more bad connections not logged)");
    return FilterReply.DENY;
  }

  /** Connection-level handlers of Armeria and Netty: what they log at WARN is about one connection. */
  static boolean isConnectionLogger(String name) {
    return name.equals("com.linecorp.armeria.internal.common.AbstractHttp2ConnectionHandler")
        || name.startsWith("com.linecorp.armeria.server.Http") && name.endsWith("Decoder")
        || name.startsWith("io.netty.handler.codec.http2.");
  }

  private boolean tryAcquire() {
    long now = System.nanoTime();
    long start = windowStart.get();
    if (now - start > WINDOW_NANOS && windowStart.compareAndSet(start, now)) {
      inWindow.set(0);
    }
    return inWindow.incrementAndGet() <= LINES_PER_WINDOW;
  }

  private static Throwable lastThrowable(Object[] params) {
    return params != null && params.length > 0 && params[params.length - 1] instanceof Throwable th ? th : null;
  }

  /** Netty's channel prints as {@code [id: 0x.., L:/127.0.0.1:8700 - R:/10.0.0.9:51234]}: keep the remote. */
  private static String remote(Object[] params) {
    if (params == null || params.length == 0 || params[0] instanceof Throwable) {
      return "";
    }
    String s = String.valueOf(params[0]);
    int r = s.indexOf("R:");
    String who = r < 0 ? s : s.substring(r + 2).replace("]", "").trim();
    return "from " + (who.startsWith("/") ? who.substring(1) : who);
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }
}
