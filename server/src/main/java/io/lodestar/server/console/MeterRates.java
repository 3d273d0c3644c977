package io.lodestar.server.console;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Per-second rates of the server's own counters, for the overview. Once a second the console's
 * scheduler samples each counter's total (all tags summed) into a ring; a rate is the growth over
 * the last {@link #WINDOW_SECONDS} seconds. The numbers are the ones /metrics exports, so the
 * console and Prometheus never disagree about what was counted.
 *
 * <p>Sampling runs only while someone looks: the first rate asked for starts it, and it stops
 * after {@link #IDLE_STOP_SECONDS} without a question, so a node nobody watches spends no timer
 * on it (a registry's idle CPU is a benchmark of its own). The overview asks every 2 s; after a
 * restart of the sampling its rates read 0 until two samples exist, as at start.
 */
final class MeterRates {
  static final int WINDOW_SECONDS = 5;
  static final String REGISTRATIONS = "lodestar.registrations";
  static final String PUSHES = "lodestar.push.updates";
  static final String CONFIG_PUBLISHES = "lodestar.config.publishes";
  static final String CLIENTS = "lodestar.clients.connected";
  private static final List<String> COUNTERS = List.of(REGISTRATIONS, PUSHES, CONFIG_PUBLISHES);

  private final MeterRegistry meters;
  private final double[][] totals = new double[COUNTERS.size()][WINDOW_SECONDS + 1];
  private final long[] times = new long[WINDOW_SECONDS + 1];
  private int next;   // guarded by this
  private int filled; // guarded by this
  static final long IDLE_STOP_SECONDS = 60;
  private final ScheduledExecutorService scheduler;
  private ScheduledFuture<?> sampling; // guarded by this; null while nobody asks
  private long askedNanos;              // guarded by this

  MeterRates(MeterRegistry meters, ScheduledExecutorService scheduler) {
    this.meters = meters;
    this.scheduler = scheduler;
  }

  /** Someone asked for a rate: keep sampling, or start again with an empty ring. Holds the lock. */
  private void asked() {
    askedNanos = System.nanoTime();
    if (sampling == null && !scheduler.isShutdown()) {
      next = 0;
      filled = 0;
      sample();
      sampling = scheduler.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }
  }

  private synchronized void tick() {
    if (System.nanoTime() - askedNanos > TimeUnit.SECONDS.toNanos(IDLE_STOP_SECONDS)) {
      sampling.cancel(false);
      sampling = null;
      return;
    }
    sample();
  }

  private double total(String name) {
    double sum = 0;
    for (Counter c : meters.find(name).counters()) {
      sum += c.count();
    }
    return sum;
  }

  private void sample() { // holds the lock
    for (int i = 0; i < COUNTERS.size(); i++) {
      totals[i][next] = total(COUNTERS.get(i));
    }
    times[next] = System.nanoTime();
    next = (next + 1) % times.length;
    filled = Math.min(filled + 1, times.length);
  }

  /** Growth per second of a counter over the window (0 until two samples exist). */
  synchronized double perSecond(String name) {
    asked();
    int i = COUNTERS.indexOf(name);
    if (i < 0 || filled < 2) {
      return 0;
    }
    int newest = (next - 1 + times.length) % times.length;
    int oldest = filled < times.length ? 0 : next;
    double seconds = (times[newest] - times[oldest]) / 1e9;
    return seconds <= 0 ? 0 : (totals[i][newest] - totals[i][oldest]) / seconds;
  }

  /** Current value of a gauge, 0 when it is not registered (e.g. before the gRPC service exists). */
  double gauge(String name) {
    Gauge g = meters.find(name).gauge();
    return g == null ? 0 : g.value();
  }
}
