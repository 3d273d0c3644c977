package io.lodestar.server.telemetry;

import io.lodestar.api.v1.EdgeStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Prometheus series per service edge (caller → callee service; never per instance or method, which
 * only the API shows): {@code lodestar_calls_total}, {@code lodestar_call_errors_total{kind}} and
 * {@code lodestar_call_duration_seconds_total} (the sum of latencies, for a mean by rate division).
 * At most {@link #MAX_SERIES_EDGES} edges get series; reports of edges past the cap are counted in
 * {@code lodestar_call_edges_unmetered_total} instead, so a flood of callers cannot flood /metrics.
 */
public final class EdgeMetrics implements CallStatsStore.Listener {
  public static final int MAX_SERIES_EDGES = 500;

  private final MeterRegistry meters;
  private final ConcurrentHashMap<List<String>, Meters> edges = new ConcurrentHashMap<>();
  private final Counter unmetered;
  private final AtomicLong size = new AtomicLong();

  private record Meters(Counter calls, Map<String, Counter> errors, Counter duration) {}

  public EdgeMetrics(MeterRegistry meters) {
    this.meters = meters;
    this.unmetered = Counter.builder("lodestar.call.edges.unmetered")
        .description("call-statistics reports of edges past the metrics cap (see the topology API)").register(meters);
  }

  @Override
  public void onReport(String callerNamespace, String caller, EdgeStats edge, Histogram latency) {
    List<String> key = List.of(edge.getNamespace(), caller, edge.getService());
    Meters m = edges.get(key);
    if (m == null) {
      if (size.get() >= MAX_SERIES_EDGES) {
        unmetered.increment();
        return;
      }
      m = edges.computeIfAbsent(key, k -> {
        size.incrementAndGet();
        return create(k);
      });
    }
    m.calls.increment(edge.getCount());
    for (Map.Entry<String, Long> e : edge.getErrorsMap().entrySet()) {
      Counter c = m.errors.get(e.getKey());
      (c != null ? c : m.errors.get("other")).increment(e.getValue());
    }
    if (latency != null) {
      m.duration.increment(latency.getMean() * latency.getTotalCount() / 1e6);
    }
  }

  private Meters create(List<String> k) {
    String[] tags = {"namespace", k.get(0), "caller", k.get(1).isEmpty() ? "unknown" : k.get(1), "service", k.get(2)};
    Map<String, Counter> errors = new ConcurrentHashMap<>();
    for (String kind : CallStatsStore.ERROR_KINDS) {
      errors.put(kind, Counter.builder("lodestar.call.errors").tags(tags).tag("kind", kind)
          .description("failed calls reported by SDKs, per service edge and kind").register(meters));
    }
    errors.put("other", Counter.builder("lodestar.call.errors").tags(tags).tag("kind", "other").register(meters));
    return new Meters(
        Counter.builder("lodestar.calls").tags(tags).description("calls reported by SDKs, per service edge")
            .register(meters),
        errors,
        Counter.builder("lodestar.call.duration").baseUnit("seconds").tags(tags)
            .description("the sum of the reported calls' latencies").register(meters));
  }
}
