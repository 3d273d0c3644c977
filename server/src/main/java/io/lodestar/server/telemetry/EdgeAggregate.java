package io.lodestar.server.telemetry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lodestar.api.v1.EdgeSlot;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.IntCountsHistogram;

/**
 * Golden signals of a group of edge slots (a service edge, a callee instance, a method), merged
 * from every node: calls, failures by kind, a latency histogram and, when asked, the same per slot
 * (latency over time). Built per query on the handler's thread; not shared.
 */
final class EdgeAggregate {
  private long count;
  private final TreeMap<String, Long> errors = new TreeMap<>();
  private final IntCountsHistogram latency = Histograms.empty();
  private final TreeMap<Long, EdgeAggregate> series;

  EdgeAggregate(boolean withSeries) {
    this.series = withSeries ? new TreeMap<>() : null;
  }

  void add(EdgeSlot s) {
    count += s.getCount();
    s.getErrorsMap().forEach((k, v) -> errors.merge(k, v, Long::sum));
    Histograms.addEncoded(latency, s.getLatencyHistogram());
    if (series != null) {
      series.computeIfAbsent(s.getStartMs(), t -> new EdgeAggregate(false)).add(s);
    }
  }

  long count() {
    return count;
  }

  long errorCount() {
    long n = 0;
    for (long v : errors.values()) {
      n += v;
    }
    return n;
  }

  double errorRate() {
    return count == 0 ? 0 : (double) errorCount() / count;
  }

  /** calls, rps, errors, errorRate, errorsByKind, latencyMs{p50,p99,p999}; and series when kept. */
  void writeTo(ObjectNode o, double windowSeconds) {
    o.put("calls", count);
    o.put("rps", round(count / windowSeconds));
    o.put("errors", errorCount());
    o.put("errorRate", round(errorRate()));
    ObjectNode kinds = o.putObject("errorsByKind");
    errors.forEach(kinds::put);
    writeLatency(o.putObject("latencyMs"));
    if (series != null) {
      var arr = o.putArray("series");
      for (Map.Entry<Long, EdgeAggregate> e : series.entrySet()) {
        ObjectNode p = arr.addObject();
        p.put("startMs", e.getKey());
        p.put("calls", e.getValue().count);
        p.put("errors", e.getValue().errorCount());
        e.getValue().writeLatency(p.putObject("latencyMs"));
      }
    }
  }

  private void writeLatency(ObjectNode l) {
    if (latency.getTotalCount() == 0) {
      l.putNull("p50");
      l.putNull("p99");
      l.putNull("p999");
      return;
    }
    l.put("p50", millis(latency.getValueAtPercentile(50)));
    l.put("p99", millis(latency.getValueAtPercentile(99)));
    l.put("p999", millis(latency.getValueAtPercentile(99.9)));
  }

  private static double millis(long micros) {
    return Math.round(micros / 10.0) / 100.0;  // µs to ms, two decimals
  }

  private static double round(double v) {
    return Math.round(v * 10_000) / 10_000.0;
  }
}
