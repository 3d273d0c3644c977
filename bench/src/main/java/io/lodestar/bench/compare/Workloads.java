package io.lodestar.bench.compare;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Runs the four workloads against one started peer, in the order that lets one registration
 * serve two of them: W1 times registering the first tier, W3 then holds it, W4 reads from it;
 * W2 runs on its own service; the larger W3 tier comes last.
 */
final class Workloads {
  private final Peer peer;
  private final Plan plan;
  private final PrintStream out;
  private final Results results;

  Workloads(Peer peer, Plan plan, PrintStream out, Results results) {
    this.peer = peer;
    this.plan = plan;
    this.out = out;
    this.results = results;
  }

  void run() throws Exception {
    results.baselineRssBytes = Proc.rssBytes(peer.pid());
    results.baselineHeapBytes = peer.jvm() ? Proc.liveHeapBytes(peer.pid()) : -1;
    boolean first = true;
    List<Integer> counts = plan.tiersFor(peer);
    for (int t = 0; t < counts.size(); t++) {
      int count = counts.get(t);
      List<PeerClient> clients = clients(plan.clients());
      boolean done = false;
      try {
        double rate = register(clients, count, first);
        if (!Double.isNaN(rate)) {
          keepAlive(count, rate);
        }
        if (first) {
          reads();
        }
        done = true;
      } finally {
        // The largest tier is left to the peer's close, which stops it as a fleet shutting down
        // with its registry: deregistering 100,000 instances one by one would add minutes, unmeasured.
        if (!done || first || t < counts.size() - 1) {
          closeAll(clients);
        }
      }
      if (first) {
        notifications();
        first = false;
      }
    }
  }

  /** The {@code i}-th instance of a tier: services of {@code perService}, five metadata entries. */
  private Inst instance(int i) {
    int service = i / plan.perService();
    Map<String, String> metadata = new LinkedHashMap<>();
    String[][] entries = {{"version", "1.4." + (i % 7)}, {"zone", "zone-" + (i % 3)}, {"region", "region-1"},
        {"env", "bench"}, {"protocol", "grpc"}};
    for (int k = 0; k < plan.metadataEntries() && k < entries.length; k++) {
      metadata.put(entries[k][0], entries[k][1]);
    }
    for (int k = entries.length; k < plan.metadataEntries(); k++) {
      metadata.put("key" + k, "value" + k);
    }
    return new Inst(String.format("svc-%04d", service), "i-" + i, "10." + (i >> 16 & 255) + "." + (i >> 8 & 255)
        + "." + (i & 255), 8000 + i % 1000, metadata);
  }

  /**
   * W1 (timed on the first tier): each client registers its share, one call at a time. A later
   * tier is filled with {@link Plan#FILL_IN_FLIGHT} calls in flight per client. Returns the
   * instances registered per second, or NaN when the tier's time budget ran out first.
   */
  private double register(List<PeerClient> clients, int count, boolean timed) throws Exception {
    int inFlight = timed ? 1 : Plan.FILL_IN_FLIGHT;
    int threads = clients.size() * inFlight;
    out.printf("  %s: registering %,d instances from %d clients (%d in flight each)...%n", peer.name(), count,
        clients.size(), inFlight);
    Recorder latency = new Recorder(3);
    AtomicLong done = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    Map<String, Double> threads0 = Proc.threadCpuSeconds(peer.pid()); // read before the clients' CPU counts
    Map<String, Double> ownThreads0 = Proc.threadCpuSeconds(ProcessHandle.current().pid());
    double serverCpu0 = Proc.cpuSeconds(peer.pid());
    double ownCpu0 = Proc.cpuSeconds(ProcessHandle.current().pid());
    java.time.Instant began = java.time.Instant.now();
    long start = System.nanoTime();
    long deadline = start + (plan.isScaleTier(count) ? plan.scaleBudget() : plan.registrationBudget()).toNanos();
    // A peer that starts refusing under load (timeouts, errors) ends the tier; it is reported, and
    // what was measured before stays in the report.
    java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
    Progress progress = new Progress(out, "    registered", count, done::get);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < threads; c++) {
        PeerClient client = clients.get(c % clients.size());
        int from = c;
        futures.add(pool.submit(() -> {
          for (int i = from; i < count && System.nanoTime() < deadline && failure.get() == null;
              i += threads) {
            long t0 = System.nanoTime();
            try {
              client.register(instance(i));
            } catch (Exception e) {
              failure.compareAndSet(null, e);
              return null;
            }
            latency.recordValue((System.nanoTime() - t0) / 1000);
            done.incrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      progress.stop();
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    window("W1 " + count, began);
    if (done.get() < count) {
      Exception e = failure.get();
      String why = e != null ? "registration failed (" + (e.getMessage() == null ? e.toString() : e.getMessage())
          + ")" : "the " + (plan.isScaleTier(count) ? plan.scaleBudget() : plan.registrationBudget()).toMinutes()
          + "-minute budget ran out";
      String note = String.format(java.util.Locale.ROOT, "registered %,d of %,d instances (%,.0f/s), then %s; "
          + "that tier was not held", done.get(), count, done.get() / seconds, why);
      out.println("    " + note);
      results.notes.add(note);
      if (timed) {
        results.registrationsPerSecond = done.get() / seconds;
      }
      return Double.NaN;
    }
    double serverCpu = Proc.cpuSeconds(peer.pid()) - serverCpu0;
    double ownCpu = Proc.cpuSeconds(ProcessHandle.current().pid()) - ownCpu0;
    Histogram h = latency.getIntervalHistogram();
    out.printf("    %,.0f instances/s (p50 %.1f ms, p99 %.1f ms); CPU s per 1,000: server %.2f, clients %.2f%n",
        count / seconds, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
        serverCpu * 1000 / count, ownCpu * 1000 / count);
    threadCpu("W1 " + count, threads0);
    clientThreadCpu("W1 " + count, ownThreads0);
    if (timed) {
      results.registrationsPerSecond = count / seconds;
      results.registerP50Ms = h.getValueAtPercentile(50) / 1e3;
      results.registerP99Ms = h.getValueAtPercentile(99) / 1e3;
      results.registerServerCpuPer1k = serverCpu * 1000 / count;
      results.registerClientCpuPer1k = ownCpu * 1000 / count;
    }
    return count / seconds;
  }

  /** W3: the registered instances stay alive for the window; the server's cost is read from outside. */
  private void keepAlive(int count, double registrationsPerSecond) throws Exception {
    out.printf("  %s: holding %,d live instances for %d s...%n", peer.name(), count,
        plan.keepAliveWindow().toSeconds());
    double cpu0 = Proc.cpuSeconds(peer.pid());
    Map<String, Double> threads0 = Proc.threadCpuSeconds(peer.pid());
    long t0 = System.nanoTime();
    Thread.sleep(plan.keepAliveWindow().toMillis()); // the measured window itself
    double cpu = Proc.cpuSeconds(peer.pid()) - cpu0;
    double window = (System.nanoTime() - t0) / 1e9;
    threadCpu("W3 " + count, threads0);
    long rss = Proc.rssBytes(peer.pid());
    long heap = peer.jvm() ? Proc.liveHeapBytes(peer.pid()) : -1;
    Results.KeepAlive k = new Results.KeepAlive(count, window, cpu, rss, heap, results.baselineHeapBytes,
        registrationsPerSecond);
    results.keepAlive.add(k);
    out.printf("    CPU %.2f s in %.0f s, RSS %,d MiB, live heap %s%n", cpu, window, rss >> 20,
        heap < 0 ? "n/a" : String.format("%,d MiB (%.0f B/instance)", heap >> 20, k.heapBytesPerInstance()));
  }

  /** Notes a workload's time span, from {@code from} to now, for the JFR profiles (when recorded). */
  private void window(String key, java.time.Instant from) {
    results.windows.put(key, new java.time.Instant[] {from, java.time.Instant.now()});
  }

  /**
   * Keeps the server's CPU per thread group since {@code before} in the results under {@code key}
   * and prints the largest groups: a run slower than another then shows where its CPU went.
   */
  private void threadCpu(String key, Map<String, Double> before) throws java.io.IOException {
    results.serverThreadCpu.put(key, cpuByThread("server", peer.pid(), before));
  }

  /**
   * The same for the clients: this JVM's CPU per thread group since {@code before}, read after the
   * workload's own CPU reading, so that reading these files never counts as the clients' work.
   * With every client in one JVM, the split (the JIT's compiler threads, the transport's event
   * loops, the callers) says where a registration's client-side CPU goes.
   */
  private void clientThreadCpu(String key, Map<String, Double> before) throws java.io.IOException {
    results.clientThreadCpu.put(key, cpuByThread("clients'", ProcessHandle.current().pid(), before));
  }

  /** A process's CPU per thread group since {@code before}, printed with its six largest groups. */
  private Map<String, Double> cpuByThread(String whose, long pid, Map<String, Double> before)
      throws java.io.IOException {
    Map<String, Double> used = Proc.threadCpuSince(before, Proc.threadCpuSeconds(pid));
    out.println("    " + whose + " CPU s by thread: " + (used.isEmpty() ? "none above 5 ms" : used.entrySet().stream()
        .limit(6).map(e -> e.getKey() + " " + String.format("%.2f", e.getValue()))
        .collect(java.util.stream.Collectors.joining(", "))));
    return used;
  }

  /** W4: readers, each with its own client, read one service of 100 instances as fast as they can. */
  private void reads() throws Exception {
    String service = instance(0).service();
    out.printf("  %s: %d readers reading %s for %d s...%n", peer.name(), plan.readers(), service,
        plan.readWindow().toSeconds());
    List<PeerClient> readers = clients(plan.readers());
    ExecutorService pool = Executors.newFixedThreadPool(readers.size());
    AtomicLong reads = new AtomicLong();
    AtomicLong shortReads = new AtomicLong();
    try {
      for (PeerClient r : readers) {
        r.read(service); // warm the connection
      }
      Map<String, Double> threads0 = Proc.threadCpuSeconds(peer.pid()); // read before the clients' CPU counts
      Map<String, Double> ownThreads0 = Proc.threadCpuSeconds(ProcessHandle.current().pid());
      double serverCpu0 = Proc.cpuSeconds(peer.pid());
      double ownCpu0 = Proc.cpuSeconds(ProcessHandle.current().pid());
      java.time.Instant from = java.time.Instant.now();
      long deadline = System.nanoTime() + plan.readWindow().toNanos();
      long start = System.nanoTime();
      List<Future<?>> futures = new ArrayList<>();
      for (PeerClient r : readers) {
        futures.add(pool.submit(() -> {
          while (System.nanoTime() < deadline) {
            if (r.read(service) != plan.perService()) {
              shortReads.incrementAndGet();
            }
            reads.incrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      window("W4", from);
      results.readsPerSecond = reads.get() / seconds;
      // CPU per read barely moves with the machine's load, unlike reads/s: what a lever changed shows here
      double serverCpu = Proc.cpuSeconds(peer.pid()) - serverCpu0;
      double ownCpu = Proc.cpuSeconds(ProcessHandle.current().pid()) - ownCpu0;
      out.printf("    %,.0f reads/s%s; CPU s per 1,000 reads: server %.3f, clients %.3f%n", results.readsPerSecond,
          shortReads.get() == 0 ? "" : " (" + shortReads.get() + " reads saw fewer than " + plan.perService() + ")",
          serverCpu * 1000 / reads.get(), ownCpu * 1000 / reads.get());
      threadCpu("W4", threads0);
      clientThreadCpu("W4", ownThreads0);
    } finally {
      pool.shutdownNow();
      closeAll(readers);
    }
  }

  /** W2: watchers on one service; a writer adds one instance per interval; each sighting is timed. */
  private void notifications() throws Exception {
    String service = "watched";
    int changes = plan.changes();
    out.printf("  %s: %d watchers, %d changes every %d ms...%n", peer.name(), plan.watchers(), changes,
        plan.changeEvery().toMillis());
    AtomicLongArray issued = new AtomicLongArray(changes);
    Histogram histogram = new Histogram(3);
    List<PeerClient> watchers = clients(plan.watchers());
    PeerClient writer = peer.client();
    List<AutoCloseable> watches = new ArrayList<>();
    Watcher[] state = new Watcher[watchers.size()];
    try {
      for (int w = 0; w < watchers.size(); w++) {
        Watcher s = new Watcher(changes);
        state[w] = s;
        watches.add(watchers.get(w).watch(service, ids -> s.saw(ids, issued, histogram)));
      }
      awaitUntil(Duration.ofSeconds(90), () -> allStarted(state), "every watcher's first view");
      // W2's latency is a fan-out on shared cores: what each change costs both sides says why
      Map<String, Double> threads0 = Proc.threadCpuSeconds(peer.pid());
      Map<String, Double> ownThreads0 = Proc.threadCpuSeconds(ProcessHandle.current().pid());
      double serverCpu0 = Proc.cpuSeconds(peer.pid());
      double ownCpu0 = Proc.cpuSeconds(ProcessHandle.current().pid());
      java.time.Instant from = java.time.Instant.now();
      ScheduledRun writes = new ScheduledRun(plan.changeEvery());
      for (int k = 0; k < changes; k++) {
        writes.next();
        issued.set(k, System.nanoTime());
        Inst change = new Inst(service, "c-" + k, "10.9." + (k >> 8) + "." + (k & 255), 9000, Map.of("seq",
            Integer.toString(k)));
        writer.register(change);
      }
      long seenBy = System.nanoTime() + plan.notifyDeadline().toNanos();
      Progress progress = new Progress(out, "    sightings", (long) changes * watchers.size(), () -> seen(state));
      while (seen(state) < (long) changes * watchers.size() && System.nanoTime() < seenBy) {
        Thread.sleep(50); // waiting for peers' watchers, bounded by the deadline
      }
      progress.stop();
      window("W2", from);
      results.notifyServerCpuMsPerChange = (Proc.cpuSeconds(peer.pid()) - serverCpu0) * 1000 / changes;
      results.notifyClientCpuMsPerChange = (Proc.cpuSeconds(ProcessHandle.current().pid()) - ownCpu0) * 1000
          / changes;
      out.printf("    CPU ms per change: server %.2f, clients %.2f%n", results.notifyServerCpuMsPerChange,
          results.notifyClientCpuMsPerChange);
      threadCpu("W2", threads0);
      clientThreadCpu("W2", ownThreads0);
    } finally {
      for (AutoCloseable w : watches) {
        w.close();
      }
      closeAll(watchers);
      writer.close();
    }
    results.notifyByChange = byChange(state, changes);
    synchronized (histogram) {
      results.notifyMissed = (long) changes * watchers.size() - histogram.getTotalCount();
      if (histogram.getTotalCount() > 0) {
        results.notifyP50Ms = histogram.getValueAtPercentile(50) / 1e3;
        results.notifyP99Ms = histogram.getValueAtPercentile(99) / 1e3;
        results.notifyMaxMs = histogram.getMaxValue() / 1e3;
      }
    }
    out.printf("    p50 %.1f ms, p99 %.1f ms, max %.1f ms%s%n", results.notifyP50Ms, results.notifyP99Ms,
        results.notifyMaxMs, results.notifyMissed == 0 ? "" : ", " + results.notifyMissed + " sightings missed");
  }

  private static boolean allStarted(Watcher[] state) {
    for (Watcher w : state) {
      if (!w.started()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Per change: the first watcher's, the median watcher's and the last watcher's milliseconds from
   * issuing it to seeing it (-1 where no watcher saw it). What the histogram of all sightings hides:
   * whether a change came late to every watcher alike (a stall before the fan-out) or the fan-out
   * itself spread out.
   */
  private static double[][] byChange(Watcher[] state, int changes) {
    double[][] out = new double[changes][];
    for (int k = 0; k < changes; k++) {
      final int change = k;
      double[] seen = java.util.Arrays.stream(state).mapToDouble(w -> w.latencyMs(change)).filter(ms -> ms >= 0)
          .sorted().toArray();
      out[k] = seen.length == 0 ? new double[] {-1, -1, -1}
          : new double[] {seen[0], seen[seen.length / 2], seen[seen.length - 1]};
    }
    return out;
  }

  private static long seen(Watcher[] state) {
    long n = 0;
    for (Watcher w : state) {
      n += w.seenCount();
    }
    return n;
  }

  /** One watcher's sightings: the first time it sees each change's instance. */
  private static final class Watcher {
    private final boolean[] seen;
    private final long[] latencyNanos; // per change, once seen
    private int seenCount;
    private boolean started;

    Watcher(int changes) {
      seen = new boolean[changes];
      latencyNanos = new long[changes];
    }

    synchronized void saw(Set<String> ids, AtomicLongArray issued, Histogram histogram) {
      long now = System.nanoTime();
      started = true;
      for (String id : ids) {
        if (!id.startsWith("c-")) {
          continue;
        }
        int k = Integer.parseInt(id.substring(2));
        if (k < seen.length && !seen[k]) {
          long at = issued.get(k);
          if (at == 0) {
            continue; // cannot happen: issued before the write
          }
          seen[k] = true;
          latencyNanos[k] = now - at;
          seenCount++;
          synchronized (histogram) {
            histogram.recordValue(Math.max(0, (now - at) / 1000));
          }
        }
      }
    }

    synchronized boolean started() {
      return started;
    }

    synchronized int seenCount() {
      return seenCount;
    }

    /** Milliseconds from issuing change {@code k} to this watcher seeing it, or -1 if it did not. */
    synchronized double latencyMs(int k) {
      return seen[k] ? latencyNanos[k] / 1e6 : -1;
    }
  }

  private List<PeerClient> clients(int n) throws Exception {
    List<PeerClient> clients = new ArrayList<>();
    try {
      for (int k = 0; k < n; k++) {
        clients.add(peer.client());
      }
    } catch (Exception e) {
      closeAll(clients);
      throw e;
    }
    return clients;
  }

  /** Closes clients in parallel (a clean shutdown of each, as an application would). */
  private void closeAll(List<PeerClient> clients) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(16, clients.size())));
    for (PeerClient c : clients) {
      pool.execute(() -> {
        try {
          c.close();
        } catch (Exception e) {
          out.println("    (closing a client: " + e + ")");
        }
      });
    }
    pool.shutdown();
    if (!pool.awaitTermination(5, TimeUnit.MINUTES)) {
      out.println("    (clients still closing after 5 minutes; going on)");
    }
  }

  private static void awaitUntil(Duration timeout, java.util.function.BooleanSupplier done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  /** Paces a loop at a fixed rate (not a fixed delay), so slow writes do not stretch the schedule. */
  private static final class ScheduledRun {
    private final long periodNanos;
    private long next = System.nanoTime();

    ScheduledRun(Duration period) {
      this.periodNanos = period.toNanos();
    }

    void next() throws InterruptedException {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      next += periodNanos;
    }
  }

  /** Prints a progress line every five seconds while a long step runs. */
  static final class Progress {
    private final java.util.concurrent.ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "bench-progress");
          t.setDaemon(true);
          return t;
        });

    Progress(PrintStream out, String what, long total, java.util.function.LongSupplier done) {
      timer.scheduleAtFixedRate(() -> out.printf("%s %,d of %,d%n", what, done.getAsLong(), total), 5, 5,
          TimeUnit.SECONDS);
    }

    void stop() {
      timer.shutdownNow();
    }
  }
}
