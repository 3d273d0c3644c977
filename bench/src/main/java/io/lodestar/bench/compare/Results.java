package io.lodestar.bench.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What one peer measured; NaN or -1 where a figure does not apply or was not reached. */
final class Results {
  final String peer;
  final String version;
  final String settings;
  /** Start to ready: the median of {@link #startsSeconds}, each start's launch to first answer. */
  double startSeconds = Double.NaN;
  List<Double> startsSeconds = List.of();
  /** W1: instances registered per second, and the per-call latency. */
  double registrationsPerSecond = Double.NaN;
  double registerP50Ms = Double.NaN;
  double registerP99Ms = Double.NaN;
  /** W1: CPU seconds per 1,000 registrations, of the server and of the clients (the bench JVM). */
  double registerServerCpuPer1k = Double.NaN;
  double registerClientCpuPer1k = Double.NaN;
  /** W2: time from issuing a change to each watcher seeing it. */
  double notifyP50Ms = Double.NaN;
  double notifyP99Ms = Double.NaN;
  double notifyMaxMs = Double.NaN;
  long notifyMissed = -1;
  /**
   * W2, per change in the order issued: the first, the median and the last watcher's milliseconds
   * to see it (-1 for a change no watcher saw); null in runs recorded before it.
   */
  double[][] notifyByChange;
  /** W2: CPU per change, from the first write to the last sighting, of the server and of the clients. */
  double notifyServerCpuMsPerChange = Double.NaN;
  double notifyClientCpuMsPerChange = Double.NaN;
  /** W3, one entry per tier. */
  final List<KeepAlive> keepAlive = new ArrayList<>();
  long baselineRssBytes = -1;
  long baselineHeapBytes = -1;
  /** W4: uncached reads of one service's instances per second. */
  double readsPerSecond = Double.NaN;
  /**
   * The server's CPU seconds per thread group in each measured workload ("W1", "W2", "W3 10000",
   * "W4"), so a run that is slower than another shows where; null in runs recorded before it.
   */
  Map<String, Map<String, Double>> serverThreadCpu = new LinkedHashMap<>();
  /** The clients' JVM's CPU seconds per thread group in W1, W2 and W4; null in runs recorded before it. */
  Map<String, Map<String, Double>> clientThreadCpu = new LinkedHashMap<>();
  /**
   * With {@code --profile}: where the server's and the clients' Java time went in W1, W2 and W4
   * (JFR's execution samples, {@link JfrProfile}); empty otherwise, null in runs recorded before it.
   */
  Map<String, JfrProfile.Summary> serverProfile = new LinkedHashMap<>();
  Map<String, JfrProfile.Summary> clientProfile = new LinkedHashMap<>();
  /**
   * With {@code --profile}: what the server's and the clients' JIT compiled in W1, W2 and W4 (JFR's
   * compilations, {@link JfrProfile#jit}); empty otherwise, null in runs recorded before it.
   */
  Map<String, JfrProfile.Jit> serverJit = new LinkedHashMap<>();
  Map<String, JfrProfile.Jit> clientJit = new LinkedHashMap<>();
  /** Each workload's time span, to cut the profiles by; not kept in the run's JSON. */
  transient Map<String, java.time.Instant[]> windows = new LinkedHashMap<>();
  String error;
  /** What the table cannot say: tiers not reached and the like. */
  final List<String> notes = new ArrayList<>();

  Results(String peer, String version, String settings) {
    this.peer = peer;
    this.version = version;
    this.settings = settings;
  }

  /** W3 at one size: server CPU over the window, RSS and live heap at its end, and how fast it filled. */
  record KeepAlive(int instances, double windowSeconds, double cpuSeconds, long rssBytes, long liveHeapBytes,
      long baselineHeapBytes, double registrationsPerSecond) {
    /** Live heap per instance above the empty server's; NaN when the peer is not a JVM. */
    double heapBytesPerInstance() {
      return liveHeapBytes < 0 || baselineHeapBytes < 0 ? Double.NaN
          : (liveHeapBytes - baselineHeapBytes) / (double) instances;
    }
  }

  KeepAlive tier(int instances) {
    return keepAlive.stream().filter(k -> k.instances() == instances).findFirst().orElse(null);
  }
}
