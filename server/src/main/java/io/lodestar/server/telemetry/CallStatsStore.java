package io.lodestar.server.telemetry;

import io.lodestar.api.v1.CallStatsReport;
import io.lodestar.api.v1.EdgeSeries;
import io.lodestar.api.v1.EdgeSeriesList;
import io.lodestar.api.v1.EdgeStats;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * This node's call statistics: every SDK window it received, per edge, in 10 s slots for the
 * retention (default 1 h). Telemetry, not state: in memory only, never through the command log;
 * a restart forgets it, and in a cluster each node holds what its own clients sent (a query merges
 * every node's, {@link ClusterTelemetry}).
 *
 * <p>Reports are filed by their arrival time on this node, so clients' clocks do not matter.
 * Memory is bounded by {@link #maxEdges}: a report for a new edge past the cap is dropped and
 * counted ({@link #droppedEdges}); edges without a report for a whole retention are removed by
 * {@link #sweep}, which also seals slots that stopped receiving.
 */
public final class CallStatsStore {
  public static final long SLOT_MS = 10_000;
  public static final Duration DEFAULT_RETENTION = Duration.ofHours(1);
  public static final int DEFAULT_MAX_EDGES = 10_000;
  /** The failure kinds the SDK sends; anything else is filed as "other" (bounded keys). */
  public static final List<String> ERROR_KINDS = List.of("error", "timeout", "unavailable", "server_error");

  private final ConcurrentHashMap<EdgeKey, EdgeSlots> edges = new ConcurrentHashMap<>();
  private final LongSupplier clock;
  private final long retentionMs;
  private final int maxEdges;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong windows = new AtomicLong();
  private final List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Hears every edge report as it is filed (metrics), on the reporting stream's thread. */
  public interface Listener {
    void onReport(String callerNamespace, String caller, EdgeStats edge, org.HdrHistogram.Histogram latency);
  }

  public CallStatsStore(LongSupplier clockMs, Duration retention, int maxEdges) {
    this.clock = clockMs;
    this.retentionMs = Math.max(SLOT_MS, retention.toMillis());
    this.maxEdges = maxEdges;
  }

  public void addListener(Listener l) {
    listeners.add(l);
  }

  public long retentionMs() {
    return retentionMs;
  }

  /** Files one SDK window. Edges with no namespace or service are ignored (nothing to show them under). */
  public void add(CallStatsReport r) {
    long now = clock.getAsLong();
    windows.incrementAndGet();
    for (EdgeStats e : r.getEdgesList()) {
      if (e.getNamespace().isEmpty() || e.getService().isEmpty()) {
        continue;
      }
      EdgeKey key = new EdgeKey(r.getCallerNamespace(), r.getCaller(), e.getNamespace(), e.getService(),
          e.getInstanceId(), e.getMethod());
      EdgeSlots slots = edges.get(key);
      if (slots == null) {
        if (edges.size() >= maxEdges) {
          dropped.incrementAndGet();
          continue;
        }
        slots = edges.computeIfAbsent(key, k -> new EdgeSlots(SLOT_MS, (int) (retentionMs / SLOT_MS) + 1));
      }
      org.HdrHistogram.Histogram latency = Histograms.decode(e.getLatencyHistogram());
      slots.add(now, e, latency, ERROR_KINDS);
      for (Listener l : listeners) {
        l.onReport(r.getCallerNamespace(), r.getCaller(), e, latency);
      }
    }
  }

  /**
   * This node's slots of a namespace's edges (callee or caller in it) over the last {@code windowMs}:
   * what a topology query merges, here and from every other node.
   */
  public EdgeSeriesList local(String namespace, long windowMs) {
    long from = clock.getAsLong() - windowMs;
    from -= Math.floorMod(from, SLOT_MS);
    EdgeSeriesList.Builder out = EdgeSeriesList.newBuilder().setDroppedEdges(dropped.get());
    for (Map.Entry<EdgeKey, EdgeSlots> e : edges.entrySet()) {
      EdgeKey k = e.getKey();
      if (!k.namespace().equals(namespace) && !k.callerNamespace().equals(namespace)) {
        continue;
      }
      var slots = e.getValue().since(from);
      if (slots.isEmpty()) {
        continue;
      }
      out.addEdges(EdgeSeries.newBuilder().setCallerNamespace(k.callerNamespace()).setCaller(k.caller())
          .setNamespace(k.namespace()).setService(k.service()).setInstanceId(k.instanceId()).setMethod(k.method())
          .addAllSlots(slots));
    }
    return out.build();
  }

  /** Seals slots that stopped receiving and removes edges silent for a whole retention. */
  public void sweep() {
    long now = clock.getAsLong();
    long current = now - Math.floorMod(now, SLOT_MS);
    edges.entrySet().removeIf(e -> e.getValue().newest() < now - retentionMs);
    edges.values().forEach(s -> s.sealOlderThan(current));
  }

  public int edgeCount() {
    return edges.size();
  }

  public long droppedEdges() {
    return dropped.get();
  }

  public long windowsReceived() {
    return windows.get();
  }
}
