package io.lodestar.bench.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The comparison as a section of docs/benchmarks.md: one table with Lodestar's ratio to the best
 * peer and whether each target is met, then versions and settings, then the charts. The section
 * sits between two markers and is replaced on every run; the rest of the file is left as it is.
 */
final class Report {
  static final String BEGIN = "<!-- bench compare: begin (written by ./lodestar bench compare; edits here are overwritten) -->";
  static final String END = "<!-- bench compare: end -->";
  private static final String LODESTAR = "Lodestar";
  /** Thread groups shown per process and workload in "Where the CPU went". */
  private static final int TOP_GROUPS = 4;

  private final List<Results> results;
  private final Plan plan;
  private final String header;
  private final int cores;

  /** {@code header}: when, where and how this run was made (date, machine, load, command). */
  Report(List<Results> results, Plan plan, String header) {
    this(results, plan, header, Runtime.getRuntime().availableProcessors());
  }

  /** {@code cores}: the machine's, which every server and the clients shared. */
  Report(List<Results> results, Plan plan, String header, int cores) {
    this.results = results;
    this.plan = plan;
    this.header = header;
    this.cores = cores;
  }

  /** Replaces the section in {@code file} (appending it the first time). */
  void writeInto(Path file) throws IOException {
    String section = markdown();
    String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "# Benchmarks\n";
    int b = text.indexOf(BEGIN);
    int e = text.indexOf(END);
    if (b >= 0 && e > b) {
      text = text.substring(0, b) + section + text.substring(e + END.length());
    } else {
      text = text.stripTrailing() + "\n\n" + section + "\n";
    }
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append(BEGIN).append("\n## Side by side: etcd, ZooKeeper, Eureka and Lodestar\n\n").append(header).append("\n\n");
    md.append("| Workload |");
    for (Results r : results) {
      md.append(' ').append(r.peer).append(" |");
    }
    md.append(" Lodestar ÷ best peer | Target | Met |\n|---|");
    md.append("---:|".repeat(results.size())).append("---:|---|---|\n");

    for (Metric m : metrics(plan)) {
      row(md, m);
    }
    md.append('\n');
    md.append(absoluteTargets());
    md.append(registrationBound());
    md.append(notificationCpu());
    md.append(notificationByChange());
    md.append(scaleTiers());
    for (Results r : results) {
      for (String note : r.notes) {
        md.append("- ").append(r.peer).append(": ").append(note).append(".\n");
      }
    }
    md.append('\n');
    md.append(cpuByThread());
    md.append(javaTime());
    md.append(jitTime());

    md.append("| Peer | Versions | Settings |\n|---|---|---|\n");
    for (Results r : results) {
      md.append("| ").append(r.peer).append(" | ").append(r.version).append(" | ").append(r.settings)
          .append(r.error == null ? "" : " **Failed: " + r.error.replace('|', '/') + "**").append(" |\n");
    }
    md.append("\n![W1 registration](bench/compare-w1.png) ![W2 notification](bench/compare-w2.png)\n")
        .append("![W3 keep-alive CPU](bench/compare-w3-cpu.png) ![W3 memory](bench/compare-w3-memory.png)\n")
        .append("![W4 reads](bench/compare-w4.png)\n\nEvery ratio across the runs recorded in `docs/bench/runs/` "
            + "(raw results, one JSON file per run):\n\n![Ratios across runs](bench/compare-trend.png)\n");
    md.append(END);
    return md.toString();
  }

  /** The targets that are not ratios to the best peer: heap against ZooKeeper's, RSS in MiB. */
  private String absoluteTargets() {
    Results lodestar = byName(LODESTAR);
    Results zk = byName("ZooKeeper");
    int first = plan.keepAliveCounts().get(0);
    StringBuilder s = new StringBuilder();
    if (lodestar != null && lodestar.tier(first) != null) {
      double mine = lodestar.tier(first).heapBytesPerInstance();
      if (zk != null && zk.tier(first) != null) {
        double theirs = zk.tier(first).heapBytesPerInstance();
        s.append(String.format(Locale.ROOT, "- Live heap per instance at %,d: Lodestar %.0f B, ZooKeeper %.0f B "
            + "(ratio %.2f; target ≤ 0.5): **%s**.%n", first, mine, theirs, mine / theirs,
            mine <= theirs / 2 ? "met" : "not met"));
      }
      if (first == 10_000) {
        double rss = lodestar.tier(first).rssBytes() / 1048576.0;
        s.append(String.format(Locale.ROOT, "- Lodestar's RSS at 10,000 instances: %.0f MiB (target < 150 MiB): "
            + "**%s**.%n", rss, rss < 150 ? "met" : "not met"));
      }
    }
    return s.toString();
  }

  /**
   * One row of the table: how to read it from each peer's results, which way is better, and the
   * target as a ratio to the best peer (NaN: none). The same list names the ratios a run records.
   */
  record Metric(String label, ToDoubleFunction<Results> f, String format, boolean higherBetter, double target,
      String targetText) {}

  static List<Metric> metrics(Plan plan) {
    List<Metric> m = new java.util.ArrayList<>();
    m.add(new Metric("W1 registration, " + String.format(Locale.ROOT, "%,d", plan.registrations())
        + " instances from " + plan.clients() + " clients (instances/s)", r -> r.registrationsPerSecond, "%,.0f",
        true, 2.0, "≥ 2× best"));
    m.add(new Metric("W1 registration latency p99 (ms)", r -> r.registerP99Ms, "%.1f", false, Double.NaN, ""));
    m.add(new Metric("W1 server CPU s per 1,000 registrations", r -> r.registerServerCpuPer1k, "%.2f", false, 0.5,
        "≤ ½ best"));
    m.add(new Metric("W1 client CPU s per 1,000 registrations (all clients)", r -> r.registerClientCpuPer1k, "%.2f",
        false, 1.0, "≤ best"));
    m.add(new Metric("W2 notification p50 (ms)", r -> r.notifyP50Ms, "%.1f", false, Double.NaN, ""));
    m.add(new Metric("W2 notification p99 (ms)", r -> r.notifyP99Ms, "%.1f", false, 0.5, "≤ ½ best"));
    m.add(new Metric("W2 notification max (ms)", r -> r.notifyMaxMs, "%.1f", false, Double.NaN, ""));
    m.add(new Metric("W2 sightings missed (of " + plan.watchers() * plan.changes() + ")", r -> r.notifyMissed,
        "%.0f", false, Double.NaN, ""));
    for (int count : plan.keepAliveCounts()) {
      String n = String.format(Locale.ROOT, "%,d", count);
      m.add(new Metric("W3 server CPU s per " + plan.keepAliveWindow().toSeconds() + " s, " + n + " live instances",
          r -> r.tier(count) == null ? Double.NaN : r.tier(count).cpuSeconds(), "%.2f", false, 0.5, "≤ ½ best"));
      m.add(new Metric("W3 RSS at " + n + " (MiB)", r -> r.tier(count) == null ? Double.NaN
          : r.tier(count).rssBytes() / 1048576.0, "%.0f", false, Double.NaN, ""));
      m.add(new Metric("W3 live heap per instance at " + n + " (bytes, after a full GC)", r -> r.tier(count) == null
          ? Double.NaN : r.tier(count).heapBytesPerInstance(), "%.0f", false, Double.NaN, ""));
    }
    m.add(new Metric("W4 uncached reads of " + plan.perService() + " instances (reads/s, " + plan.readers()
        + " readers)", r -> r.readsPerSecond, "%,.0f", true, 2.0, "≥ 2× best"));
    m.add(new Metric("Start to ready: launch to first answer (s)", r -> r.startSeconds, "%.1f", false, Double.NaN,
        "≤ ZooKeeper's"));
    return m;
  }

  /** Lodestar ÷ the best other peer, per metric label; NaN where either is missing. */
  static java.util.Map<String, Double> ratios(List<Results> results, Plan plan) {
    java.util.Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (Metric m : metrics(plan)) {
      out.put(m.label(), ratio(results, m));
    }
    return out;
  }

  private static double ratio(List<Results> results, Metric m) {
    Results lodestar = results.stream().filter(r -> r.peer.equals(LODESTAR)).findFirst().orElse(null);
    double best = Double.NaN;
    for (Results r : results) {
      double v = m.f().applyAsDouble(r);
      if (r != lodestar && !Double.isNaN(v) && v >= 0) {
        best = Double.isNaN(best) ? v : m.higherBetter() ? Math.max(best, v) : Math.min(best, v);
      }
    }
    double mine = lodestar == null ? Double.NaN : m.f().applyAsDouble(lodestar);
    return Double.isNaN(best) || Double.isNaN(mine) || mine < 0 || best == 0 ? Double.NaN : mine / best;
  }

  private void row(StringBuilder md, Metric m) {
    md.append("| ").append(m.label()).append(" |");
    for (Results r : results) {
      md.append(' ').append(fmt(m.format(), m.f().applyAsDouble(r))).append(" |");
    }
    double ratio = ratio(results, m);
    md.append(' ').append(Double.isNaN(ratio) ? "–" : fmt("%.2f", ratio)).append(" | ").append(m.targetText())
        .append(" | ");
    if (!Double.isNaN(m.target()) && !Double.isNaN(ratio)) {
      md.append(m.higherBetter() ? ratio >= m.target() ? "**met**" : "not met"
          : ratio <= m.target() ? "**met**" : "not met");
    } else if (m.label().startsWith("Start to ready")) {
      Results zk = byName("ZooKeeper");
      Results lodestar = byName(LODESTAR);
      if (zk != null && lodestar != null && !Double.isNaN(zk.startSeconds) && !Double.isNaN(lodestar.startSeconds)) {
        md.append(lodestar.startSeconds <= zk.startSeconds ? "**met**" : "not met");
      }
    }
    md.append(" |\n");
  }

  /**
   * W1's clients each wait for one answer before the next call, but the servers and the clients
   * share the machine's cores, so the rate is bound by CPU as soon as both sides' CPU per
   * registration fills them: then rate × CPU per registration = the cores busy. This says, from the
   * run's own figures, how busy they were and what CPU per registration the rate target asks for.
   */
  private String registrationBound() {
    Results lodestar = byName(LODESTAR);
    Results best = results.stream().filter(r -> r != lodestar && busyCores(r) > 0)
        .max(java.util.Comparator.comparingDouble(r -> r.registrationsPerSecond)).orElse(null);
    if (lodestar == null || best == null || !(busyCores(lodestar) > 0)) {
      return "";
    }
    String busy = results.stream().filter(r -> busyCores(r) > 0)
        .map(r -> String.format(Locale.ROOT, "%s %.2f", r.peer, busyCores(r)))
        .collect(java.util.stream.Collectors.joining(", "));
    if (busyCores(lodestar) < 0.85 * cores) {
      // the clients waited on something other than CPU (a sync, a timer): no bound from CPU to state
      return String.format(Locale.ROOT, "- Over W1 the server and the clients kept %s of the machine's %d cores "
          + "busy.%n", busy, cores);
    }
    double mine = cpuMsPerRegistration(lodestar);
    return String.format(Locale.ROOT, "- W1's rate is bound by CPU: over the registration the server and the "
        + "clients kept %s of the machine's %d cores busy, so a peer's rate is about the cores ÷ its CPU per "
        + "registration, server and clients together. Lodestar's %.2f ms allows at most %,.0f per s here; twice "
        + "%s's rate (%,.0f per s) needs at most %.2f ms.%n", busy, cores, mine, cores * 1000 / mine, best.peer,
        2 * best.registrationsPerSecond, cores * 1000 / (2 * best.registrationsPerSecond));
  }

  /**
   * W2's latency is a fan-out to every watcher on cores the server and the watchers share: what one
   * change cost each side is the first thing to read when a peer's p99 is behind. The JIT compilers'
   * share is said apart: the benchmark's JVM compiles each client's path while W2 runs.
   */
  private String notificationCpu() {
    String perPeer = results.stream().filter(r -> r.notifyServerCpuMsPerChange > 0 && r.notifyClientCpuMsPerChange > 0)
        .map(this::notificationCpu)
        .collect(java.util.stream.Collectors.joining(", "));
    if (perPeer.isEmpty()) {
      return "";
    }
    return String.format(Locale.ROOT, "- W2's CPU per change, from the first write to the last sighting, server + "
        + "clients (the %d watchers and the writer), in ms: %s; each change's fan-out runs on the machine's %d cores, "
        + "which both sides share.%n", plan.watchers(), perPeer, cores);
  }

  /**
   * W2 change by change: with every watcher seeing each change, p99 is decided by the few slowest
   * changes; whether those came late to every watcher alike, and how far apart the first and last
   * watcher saw a typical change, tell a stall from a fan-out that spreads.
   */
  private String notificationByChange() {
    String perPeer = results.stream().filter(r -> r.notifyByChange != null && r.notifyByChange.length > 0)
        .map(this::notificationByChange).filter(s -> !s.isEmpty())
        .collect(java.util.stream.Collectors.joining("; "));
    if (perPeer.isEmpty()) {
      return "";
    }
    return String.format(Locale.ROOT, "- W2 change by change, in ms (medians over the changes): from issuing a "
        + "change to its first watcher seeing it, and how much later its last watcher did; then the %d changes slowest "
        + "at their median watcher (#the change's number, from 0: its first / median / last watcher): %s.%n",
        SLOWEST_CHANGES, perPeer);
  }

  private static final int SLOWEST_CHANGES = 3;

  private String notificationByChange(Results r) {
    double[][] c = java.util.Arrays.stream(r.notifyByChange).filter(x -> x[0] >= 0).toArray(double[][]::new);
    if (c.length == 0) {
      return "";
    }
    double firstMedian = java.util.Arrays.stream(c).mapToDouble(x -> x[0]).sorted().toArray()[c.length / 2];
    double spreadMedian = java.util.Arrays.stream(c).mapToDouble(x -> x[2] - x[0]).sorted().toArray()[c.length / 2];
    String slowest = java.util.stream.IntStream.range(0, r.notifyByChange.length)
        .filter(k -> r.notifyByChange[k][0] >= 0).boxed()
        .sorted(java.util.Comparator.comparingDouble((Integer k) -> -r.notifyByChange[k][1]))
        .limit(SLOWEST_CHANGES)
        .map(k -> String.format(Locale.ROOT, "#%d %.1f / %.1f / %.1f", k, r.notifyByChange[k][0],
            r.notifyByChange[k][1], r.notifyByChange[k][2]))
        .collect(java.util.stream.Collectors.joining(", "));
    return String.format(Locale.ROOT, "%s first %.1f, last +%.1f, slowest %s", r.peer, firstMedian, spreadMedian,
        slowest);
  }

  private String notificationCpu(Results r) {
    String figures = String.format(Locale.ROOT, "%s %.2f + %.2f", r.peer, r.notifyServerCpuMsPerChange,
        r.notifyClientCpuMsPerChange);
    Map<String, Double> server = r.serverThreadCpu == null ? null : r.serverThreadCpu.get("W2");
    Map<String, Double> clients = r.clientThreadCpu == null ? null : r.clientThreadCpu.get("W2");
    if (server == null || clients == null) {
      return figures; // a run recorded before the thread groups were
    }
    double serverJit = compilerSeconds(server) * 1000 / plan.changes();
    double clientJit = compilerSeconds(clients) * 1000 / plan.changes();
    return figures + String.format(Locale.ROOT, " (%.2f + %.2f without the JIT compilers)",
        Math.max(0, r.notifyServerCpuMsPerChange - serverJit), Math.max(0, r.notifyClientCpuMsPerChange - clientJit));
  }

  /** The JIT compiler threads' seconds in one workload's thread groups. */
  private static double compilerSeconds(Map<String, Double> groups) {
    return groups.entrySet().stream().filter(e -> e.getKey().startsWith("C1 CompilerThre")
        || e.getKey().startsWith("C2 CompilerThre")).mapToDouble(Map.Entry::getValue).sum();
  }

  /** W1's CPU per registration, server and clients, in milliseconds; NaN when a figure is missing. */
  private static double cpuMsPerRegistration(Results r) {
    return r.registerServerCpuPer1k + r.registerClientCpuPer1k; // s per 1,000 = ms per one
  }

  /** Cores busy over W1: registrations per second × CPU seconds per registration. */
  private static double busyCores(Results r) {
    return r.registrationsPerSecond * cpuMsPerRegistration(r) / 1000;
  }

  /**
   * Lodestar's scale tiers: what one node holds beyond the compared tiers, each figure per instance
   * beside the largest compared tier's (the bound: within 20 %).
   */
  private String scaleTiers() {
    Results lodestar = byName(LODESTAR);
    if (lodestar == null || plan.scaleTiers().isEmpty()) {
      return "";
    }
    int base = plan.keepAliveCounts().get(plan.keepAliveCounts().size() - 1);
    Results.KeepAlive b = lodestar.tier(base);
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%nLodestar's scale tiers (filled by %d clients "
        + "with %d calls in flight each; per-instance costs beside the %,d tier's):%n%n", plan.clients(),
        Plan.FILL_IN_FLIGHT, base));
    s.append("| Instances | Registered/s | CPU s per ").append(plan.keepAliveWindow().toSeconds())
        .append(" s | CPU µs per instance per s | RSS (MiB) | Live heap per instance (B) | Within 20 % of ")
        .append(String.format(Locale.ROOT, "%,d", base)).append(" |\n|---:|---:|---:|---:|---:|---:|---|\n");
    List<Integer> all = new java.util.ArrayList<>(List.of(base));
    all.addAll(plan.scaleTiers());
    for (int count : all) {
      Results.KeepAlive k = lodestar.tier(count);
      s.append(String.format(Locale.ROOT, "| %,d | ", count));
      if (k == null) {
        s.append("not reached | | | | | |\n");
        continue;
      }
      String within = "";
      if (count != base && b != null) {
        boolean heapOk = k.heapBytesPerInstance() <= b.heapBytesPerInstance() * 1.2;
        boolean cpuOk = cpuPerInstance(k) <= cpuPerInstance(b) * 1.2;
        within = heapOk && cpuOk ? "**met**" : "not met (" + (heapOk ? "" : "heap") + (heapOk || cpuOk ? "" : ", ")
            + (cpuOk ? "" : "CPU") + ")";
      }
      s.append(fmt("%,.0f", k.registrationsPerSecond())).append(" | ").append(fmt("%.2f", k.cpuSeconds()))
          .append(" | ").append(fmt("%.3f", cpuPerInstance(k))).append(" | ").append(fmt("%.0f", k.rssBytes() / 1048576.0))
          .append(" | ").append(fmt("%.0f", k.heapBytesPerInstance())).append(" | ").append(within).append(" |\n");
    }
    return s.toString();
  }

  /**
   * Where each measured workload's CPU went, per peer: the server's and the clients' largest thread
   * groups, from the same readings as the table's CPU rows. A row that misses its target then shows
   * what the time was spent on (a compiler thread, the transport's event loops, the log) in the
   * report itself, not only in the run's output.
   */
  private String cpuByThread() {
    List<String> workloads = new java.util.ArrayList<>();
    for (Results r : results) {
      for (String w : r.serverThreadCpu.keySet()) {
        if (!workloads.contains(w)) {
          workloads.add(w);
        }
      }
    }
    if (workloads.isEmpty()) {
      return "";
    }
    StringBuilder s = new StringBuilder("Where the CPU went: seconds per thread group over each workload, the "
        + TOP_GROUPS + " largest (threads named alike but for their numbers add up; Linux keeps 15 characters of a "
        + "name). The clients are the benchmark's JVM, every peer's in turn.\n\n| Workload | Peer | Server | Clients |\n"
        + "|---|---|---|---|\n");
    for (String w : workloads) {
      for (Results r : results) {
        Map<String, Double> server = r.serverThreadCpu.get(w);
        if (server == null) {
          continue;
        }
        s.append("| ").append(workloadName(w)).append(" | ").append(r.peer).append(" | ").append(largest(server))
            .append(" | ").append(largest(r.clientThreadCpu.get(w))).append(" |\n");
      }
    }
    return s.append('\n').toString();
  }

  /**
   * With {@code --profile}: where each process's Java time went in W1, W2 and W4, by the code that
   * asked for it and by the hottest methods ({@link JfrProfile}); nothing in a run without it.
   */
  private String javaTime() {
    String rows = profileRows(r -> r.serverProfile, r -> r.clientProfile, this::profileRow);
    if (rows.isEmpty()) {
      return "";
    }
    return "Where the Java time went (`--profile`): JFR's execution samples, one per running Java thread every "
        + JfrProfile.PERIOD.toMillis() + " ms at most, put down to the code that asked for the time (the package of the "
        + "first frame outside the JDK) and to the method on top of the stack (its own time). Threads in native code "
        + "(system calls), the JIT compilers and the collector are not sampled: the table above has their CPU. etcd "
        + "is not a JVM.\n\n| Workload | Peer | Process | Samples | Code | Hottest methods |\n|---|---|---|---:|---|---|\n"
        + rows + "\n";
  }

  /**
   * With {@code --profile}: what each JVM's JIT compiled in W1, W2 and W4 ({@link JfrProfile#jit}),
   * since a short workload on a fresh JVM spends much of its CPU there; nothing in a run without it.
   */
  private String jitTime() {
    String rows = profileRows(r -> r.serverJit, r -> r.clientJit, this::jitRow);
    if (rows.isEmpty()) {
      return "";
    }
    return "What the JIT compiled (`--profile`): every compilation that started in the workload (JFR's "
        + "`jdk.Compilation`), its duration (the compiler thread's wall time: its CPU when a core is free, more when "
        + "the workload keeps both busy, so read the shares beside the CPU table's compiler threads), how much of it "
        + "compiled a method again at a tier it had been compiled at before in that JVM (after a deoptimisation: a "
        + "profile that stopped holding), and the time's largest shares by the compiled code's package and by "
        + "method. etcd is not a JVM.\n\n| Workload | Peer | Process | Compilations | JIT wall s | Again (s) | Code "
        + "| Longest |\n|---|---|---|---:|---:|---:|---|---|\n" + rows + "\n";
  }

  /** A profiled row's cells after the workload, peer and process. */
  private interface ProfileRow<S> {
    String row(String workload, String peer, String process, S summary);
  }

  /** W1's, W2's and W4's rows, each peer's server then clients, for what a profiled run kept. */
  private <S> String profileRows(java.util.function.Function<Results, Map<String, S>> server,
      java.util.function.Function<Results, Map<String, S>> clients, ProfileRow<S> row) {
    StringBuilder rows = new StringBuilder();
    for (String w : List.of("W1 " + plan.keepAliveCounts().get(0), "W2", "W4")) {
      for (Results r : results) {
        Map<String, S> byServer = server.apply(r);
        Map<String, S> byClients = clients.apply(r);
        S s = byServer == null ? null : byServer.get(w);
        S c = byClients == null ? null : byClients.get(w);
        if (s != null) {
          rows.append(row.row(w, r.peer, "server", s));
        }
        if (c != null) {
          rows.append(row.row(w, r.peer, "clients", c));
        }
      }
    }
    return rows.toString();
  }

  private String jitRow(String workload, String peer, String process, JfrProfile.Jit j) {
    return String.format(java.util.Locale.ROOT, "| %s | %s | %s | %d | %.2f | %d (%.2f) | %s | %s |\n",
        workloadName(workload), peer, process, j.compilations(), j.seconds(), j.again(), j.againSeconds(),
        JfrProfile.shares(j.code()).replace('|', '/'), JfrProfile.shares(j.methods()).replace('|', '/'));
  }

  private String profileRow(String workload, String peer, String process, JfrProfile.Summary s) {
    return "| " + workloadName(workload) + " | " + peer + " | " + process + " | " + s.samples() + " | "
        + JfrProfile.shares(s.code()).replace('|', '/') + " | " + JfrProfile.shares(s.methods()).replace('|', '/')
        + " |\n";
  }

  /**
   * "W1 10000" → "W1, 10,000 registrations"; "W3 10000" → "W3, 10,000 held"; "W2" → "W2, 100 changes";
   * others as they are.
   */
  private String workloadName(String key) {
    String[] parts = key.split(" ", 2);
    if (parts.length == 2 && parts[1].chars().allMatch(Character::isDigit)) {
      String n = String.format(Locale.ROOT, "%,d", Long.parseLong(parts[1]));
      return parts[0] + ", " + n + (parts[0].equals("W1") ? " registrations" : parts[0].equals("W3") ? " held" : "");
    }
    return key.equals("W2") ? "W2, " + plan.changes() + " changes" : key;
  }

  private static String largest(Map<String, Double> groups) {
    if (groups == null) {
      return "–";
    }
    if (groups.isEmpty()) {
      return "none above 5 ms";
    }
    return groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(TOP_GROUPS).map(e -> e.getKey().replace('|', '/') + " " + fmt("%.2f", e.getValue()))
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /** Keep-alive CPU per held instance, in microseconds per second of the window. */
  private static double cpuPerInstance(Results.KeepAlive k) {
    return k.cpuSeconds() * 1e6 / k.windowSeconds() / k.instances();
  }

  private Results byName(String name) {
    return results.stream().filter(r -> r.peer.equals(name)).findFirst().orElse(null);
  }

  private static String fmt(String format, double v) {
    return Double.isNaN(v) || v < 0 ? "–" : String.format(Locale.ROOT, format, v);
  }
}
