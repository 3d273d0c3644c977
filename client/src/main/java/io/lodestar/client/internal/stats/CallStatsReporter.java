package io.lodestar.client.internal.stats;

import io.lodestar.api.v1.CallStatsReport;
import io.lodestar.api.v1.EdgeStats;
import io.lodestar.client.LodestarClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Sends the caller's call statistics to its server once per window (10 s by default), on the
 * client's stream. Each window is drained from every {@link ServiceCalls} and sent as one
 * {@link CallStatsReport}; when no server is connected the window is dropped (telemetry, not
 * state: nothing is queued, so an outage costs no memory).
 *
 * <p>Threading: one daemon thread, {@code lodestar-stats}, drains and sends; reporters of calls
 * never wait for it.
 */
public final class CallStatsReporter implements AutoCloseable {
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
  private static final System.Logger LOG = System.getLogger(CallStatsReporter.class.getName());

  private final LodestarClient client;
  private final String callerNamespace;
  private final String caller;
  private final Supplier<List<ServiceCalls>> services;
  private final long windowMs;
  private final ScheduledExecutorService timer;
  private long windowStart = System.currentTimeMillis();

  public CallStatsReporter(LodestarClient client, String callerNamespace, String caller,
      Supplier<List<ServiceCalls>> services, Duration window) {
    this.client = client;
    this.callerNamespace = callerNamespace;
    this.caller = caller;
    this.services = services;
    this.windowMs = Math.max(1, window.toMillis());
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lodestar-stats");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::sendSafely, windowMs, windowMs, TimeUnit.MILLISECONDS);
  }

  private void sendSafely() {
    try {
      send();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "call statistics window not sent", e);
    }
  }

  /** Drains the window and sends it; visible for tests that do not want to wait for the timer. */
  public synchronized void send() {
    long now = System.currentTimeMillis();
    List<EdgeStats> edges = new ArrayList<>();
    for (ServiceCalls s : services.get()) {
      s.drain(edges);
    }
    long start = windowStart;
    windowStart = now;
    if (edges.isEmpty()) {
      return;
    }
    io.lodestar.client.internal.StreamChannel.of(client).sendCallStats(CallStatsReport.newBuilder().setCallerNamespace(callerNamespace).setCaller(caller)
        .setWindowStartMs(start).setWindowMs((int) Math.max(0, now - start)).addAllEdges(edges).build());
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
