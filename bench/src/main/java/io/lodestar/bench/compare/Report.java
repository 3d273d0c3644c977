package io.lodestar.bench.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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

  private final List<Results> results;
  private final Plan plan;
  private final String header;

  /** {@code header}: when, where and how this run was made (date, machine, load, command). */
  Report(List<Results> results, Plan plan, String header) {
    this.results = results;
    this.plan = plan;
    this.header = header;
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

    row(md, "W1 registration, " + String.format(Locale.ROOT, "%,d", plan.registrations()) + " instances from "
        + plan.clients() + " clients (instances/s)", r -> r.registrationsPerSecond, "%,.0f", true, 2.0, "≥ 2× best");
    row(md, "W1 registration latency p99 (ms)", r -> r.registerP99Ms, "%.1f", false, Double.NaN, "");
    row(md, "W1 server CPU s per 1,000 registrations", r -> r.registerServerCpuPer1k, "%.2f", false, Double.NaN, "");
    row(md, "W1 client CPU s per 1,000 registrations (all clients)", r -> r.registerClientCpuPer1k, "%.2f", false,
        Double.NaN, "");
    row(md, "W2 notification p50 (ms)", r -> r.notifyP50Ms, "%.1f", false, Double.NaN, "");
    row(md, "W2 notification p99 (ms)", r -> r.notifyP99Ms, "%.1f", false, 0.5, "≤ ½ best");
    row(md, "W2 notification max (ms)", r -> r.notifyMaxMs, "%.1f", false, Double.NaN, "");
    row(md, "W2 sightings missed (of " + plan.watchers() * plan.changes() + ")", r -> r.notifyMissed, "%.0f",
        false, Double.NaN, "");
    for (int count : plan.keepAliveCounts()) {
      String n = String.format(Locale.ROOT, "%,d", count);
      row(md, "W3 server CPU s per " + plan.keepAliveWindow().toSeconds() + " s, " + n + " live instances",
          r -> r.tier(count) == null ? Double.NaN : r.tier(count).cpuSeconds(), "%.2f", false, 0.5, "≤ ½ best");
      row(md, "W3 RSS at " + n + " (MiB)", r -> r.tier(count) == null ? Double.NaN
          : r.tier(count).rssBytes() / 1048576.0, "%.0f", false, Double.NaN, "");
      row(md, "W3 live heap per instance at " + n + " (bytes, after a full GC)", r -> r.tier(count) == null
          ? Double.NaN : r.tier(count).heapBytesPerInstance(), "%.0f", false, Double.NaN, "");
    }
    row(md, "W4 uncached reads of " + plan.perService() + " instances (reads/s, " + plan.readers() + " readers)",
        r -> r.readsPerSecond, "%,.0f", true, 2.0, "≥ 2× best");
    md.append('\n');
    md.append(absoluteTargets());
    for (Results r : results) {
      for (String note : r.notes) {
        md.append("- ").append(r.peer).append(": ").append(note).append(".\n");
      }
    }
    md.append('\n');

    md.append("| Peer | Versions | Settings | Start to ready (s) |\n|---|---|---|---:|\n");
    for (Results r : results) {
      md.append("| ").append(r.peer).append(" | ").append(r.version).append(" | ").append(r.settings)
          .append(r.error == null ? "" : " **Failed: " + r.error.replace('|', '/') + "**").append(" | ")
          .append(fmt("%.1f", r.startSeconds)).append(" |\n");
    }
    md.append("\n![W1 registration](bench/compare-w1.png) ![W2 notification](bench/compare-w2.png)\n")
        .append("![W3 keep-alive CPU](bench/compare-w3-cpu.png) ![W3 memory](bench/compare-w3-memory.png)\n")
        .append("![W4 reads](bench/compare-w4.png)\n");
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

  private void row(StringBuilder md, String label, ToDoubleFunction<Results> f, String format, boolean higherBetter,
      double target, String targetText) {
    md.append("| ").append(label).append(" |");
    for (Results r : results) {
      md.append(' ').append(fmt(format, f.applyAsDouble(r))).append(" |");
    }
    Results lodestar = byName(LODESTAR);
    double best = Double.NaN;
    for (Results r : results) {
      double v = f.applyAsDouble(r);
      if (r != lodestar && !Double.isNaN(v) && v >= 0) {
        best = Double.isNaN(best) ? v : higherBetter ? Math.max(best, v) : Math.min(best, v);
      }
    }
    double mine = lodestar == null ? Double.NaN : f.applyAsDouble(lodestar);
    double ratio = Double.isNaN(best) || Double.isNaN(mine) || best == 0 ? Double.NaN : mine / best;
    md.append(' ').append(Double.isNaN(ratio) ? "–" : fmt("%.2f", ratio)).append(" | ").append(targetText).append(" | ");
    if (!Double.isNaN(target) && !Double.isNaN(ratio)) {
      md.append(higherBetter ? ratio >= target ? "**met**" : "not met" : ratio <= target ? "**met**" : "not met");
    }
    md.append(" |\n");
  }

  private Results byName(String name) {
    return results.stream().filter(r -> r.peer.equals(name)).findFirst().orElse(null);
  }

  private static String fmt(String format, double v) {
    return Double.isNaN(v) || v < 0 ? "–" : String.format(Locale.ROOT, format, v);
  }
}
