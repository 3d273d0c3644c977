package io.lodestar.client.internal.stats;

import io.lodestar.api.v1.EdgeStats;
import io.lodestar.client.governance.ErrorKind;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;

/**
 * The calls a caller makes to one service, per instance and method, for the current window.
 *
 * <p>Hot path ({@link #record}, any thread): two lookups in concurrent maps keyed by strings the
 * call already holds, then {@link EdgeRecorder#record}: no lock, no allocation once an edge
 * exists. The first call on a new edge creates it ({@code computeIfAbsent}). Methods per instance
 * are capped ({@link #MAX_METHODS}); calls past the cap are filed under {@link #OTHER_METHOD}, so
 * a caller that puts ids in method names cannot grow the table without bound.
 *
 * <p>{@link #drain} runs on the reporter thread only: it swaps each edge's window out and drops
 * edges idle for {@link #IDLE_WINDOWS} windows (an instance that left).
 */
public final class ServiceCalls {
  public static final int MAX_METHODS = 64;
  public static final String OTHER_METHOD = "_other";
  static final int IDLE_WINDOWS = 6;
  private static final ErrorKind[] KINDS = ErrorKind.values();

  private final String namespace;
  private final String service;
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, EdgeRecorder>> byInstance =
      new ConcurrentHashMap<>();

  public ServiceCalls(String namespace, String service) {
    this.namespace = namespace;
    this.service = service;
  }

  /**
   * Counts one call. {@code method} may be empty (unknown); {@code error} is null for a success.
   */
  public void record(String instanceId, String method, ErrorKind error, long latencyNanos) {
    ConcurrentHashMap<String, EdgeRecorder> byMethod = byInstance.get(instanceId);
    if (byMethod == null) {
      byMethod = byInstance.computeIfAbsent(instanceId, k -> new ConcurrentHashMap<>());
    }
    String m = method == null ? "" : method;
    EdgeRecorder r = byMethod.get(m);
    if (r == null) {
      r = byMethod.size() >= MAX_METHODS ? byMethod.computeIfAbsent(OTHER_METHOD, k -> new EdgeRecorder(KINDS.length))
          : byMethod.computeIfAbsent(m, k -> new EdgeRecorder(KINDS.length));
    }
    r.record(error == null ? -1 : error.ordinal(), latencyNanos);
  }

  /** Reporter thread: this window's edges with at least one call, added to {@code out}. */
  public void drain(List<EdgeStats> out) {
    for (Map.Entry<String, ConcurrentHashMap<String, EdgeRecorder>> inst : byInstance.entrySet()) {
      Iterator<Map.Entry<String, EdgeRecorder>> it = inst.getValue().entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<String, EdgeRecorder> e = it.next();
        EdgeRecorder r = e.getValue();
        Histogram h = r.drainLatency();
        EdgeStats.Builder b = EdgeStats.newBuilder();
        for (ErrorKind k : KINDS) {
          long n = r.drainErrors(k.ordinal());
          if (n > 0) {
            b.putErrors(k.wireName(), n);
          }
        }
        if (h.getTotalCount() == 0 && b.getErrorsCount() == 0) {
          if (++r.idleWindows >= IDLE_WINDOWS) {
            it.remove();  // a late call may still land in it: a window of one call lost at most
          }
          continue;
        }
        r.idleWindows = 0;
        out.add(b.setNamespace(namespace).setService(service).setInstanceId(inst.getKey()).setMethod(e.getKey())
            .setCount(h.getTotalCount())
            .setLatencyHistogram(com.google.protobuf.ByteString.copyFrom(EdgeRecorder.encode(h))).build());
      }
      if (inst.getValue().isEmpty()) {
        byInstance.remove(inst.getKey(), inst.getValue());
      }
    }
  }
}
