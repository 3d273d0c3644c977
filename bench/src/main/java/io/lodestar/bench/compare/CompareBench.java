package io.lodestar.bench.compare;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar bench compare}: starts etcd, ZooKeeper, Eureka and Lodestar on loopback one after
 * another, runs the same four workloads against each, and writes the side-by-side section of
 * docs/benchmarks.md with charts.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Side-by-side benchmark against etcd, ZooKeeper and Eureka; writes docs/benchmarks.md.")
public final class CompareBench implements Callable<Integer> {
  // Held so the setting survives: the SDK's per-connection INFO lines would drown the progress.
  private static final java.util.logging.Logger SDK_LOG = java.util.logging.Logger.getLogger("io.lodestar.client");

  @Option(names = "--quick", description = "Shorter workloads: within 5 minutes on 2 cores (full: 30).")
  boolean quick;

  @Option(names = "--peers", split = ",", defaultValue = "etcd,zookeeper,eureka,lodestar",
      description = "Which systems to run, in order (default: ${DEFAULT-VALUE}).")
  List<String> peers;

  @Option(names = "--heap", defaultValue = "1g", description = "-Xmx of every JVM server (default: ${DEFAULT-VALUE}).")
  String heap;

  @Option(names = "--report", description = "Markdown file whose side-by-side section is rewritten "
      + "(default: docs/benchmarks.md of this checkout).")
  Path report;

  @Option(names = "--no-report", description = "Print the results only; write no files.")
  boolean noReport;

  @Option(names = "--tiers", split = ",", description = "W3 tiers instead of the plan's (the first is also W1's "
      + "size), e.g. 2000 for a smoke run.")
  List<Integer> tiers = List.of();

  @Option(names = "--scale-tiers", split = ",", description = "Lodestar-only scale tiers instead of the plan's "
      + "(full plan: 1000000); 0 for none.")
  List<Integer> scaleTiers;

  @Option(names = "--profile", description = "Also record where each JVM's Java time goes in W1, W2 and W4 (JFR "
      + "execution samples of every JVM server and of the clients); the report gains a table. The recordings, kept for their stacks, cost "
      + "the JVM peers a little CPU and memory, so a profiled run's figures are marked as such.")
  boolean profile;

  @Override
  public Integer call() throws Exception {
    Plan plan = (quick ? Plan.quick() : Plan.full()).withTiers(tiers,
        scaleTiers == null ? null : scaleTiers.stream().filter(n -> n > 0).toList());
    SDK_LOG.setLevel(java.util.logging.Level.WARNING);
    List<Supplier<Peer>> chosen = new ArrayList<>();
    for (String name : peers) {
      Supplier<Peer> p = peer(name.trim().toLowerCase(Locale.ROOT));
      if (p == null) {
        System.err.println("bench compare: unknown peer '" + name + "' (choose from etcd, zookeeper, eureka, lodestar)");
        return 2;
      }
      chosen.add(p);
    }
    Path home = Path.of(System.getProperty("lodestar.home", ".")).toAbsolutePath().normalize();
    Path file = report != null ? report : home.resolve("docs/benchmarks.md");
    String load = loadAverage();
    String startedAt = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    long start = System.nanoTime();
    List<Results> all = run(chosen, plan, heap, System.out, profile);
    String header = String.format(Locale.ROOT, "Measured on %s with `./lodestar bench compare%s%s` (%s plan, "
        + "%.0f minutes): %d cores, %s, Java %s (every JVM peer's server and all the clients); load average %s before and %s after. Every server ran alone on "
        + "loopback, one after another, each started once the machine was quiet (90 %% idle over a second), "
        + "with its clients in the benchmark's JVM on the same cores; figures are "
        + "from one run%s.%s", LocalDate.now(), quick ? " --quick" : "", profile ? " --profile" : "", plan.label(), (System.nanoTime() - start) / 6e10,
        Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"), load,
        loadAverage(), plan.timedStarts() > 1 ? ", except start to ready: the median of " + plan.timedStarts()
            + " starts of each server, each on an empty directory (the notes list them)" : "", profile ? " JFR recorded every JVM server (not etcd) and the clients throughout: their CPU "
            + "and memory figures carry its cost." : "");
    Report r = new Report(all, plan, header);
    if (noReport) {
      System.out.println(r.markdown());
    } else {
      Path charts = file.resolveSibling("bench");
      String command = "bench compare" + (quick ? " --quick" : "") + (tiers.isEmpty() ? "" : " --tiers " + tiers)
          + (scaleTiers == null ? "" : " --scale-tiers " + scaleTiers) + " --heap " + heap
          + (profile ? " --profile" : "");
      Path json = RunLog.write(charts.resolve("runs"), new RunLog.Run(startedAt, plan.label(), command, load,
          loadAverage(), LodestarPeer.gitRevision(), Report.ratios(all, plan), all));
      r.writeInto(file);
      Charts.write(all, plan, charts);
      Charts.writeTrend(RunLog.readAll(charts.resolve("runs")), charts);
      System.out.println("bench compare: wrote " + file + ", charts in " + charts + " and the raw results in " + json);
    }
    return all.stream().anyMatch(x -> x.error != null) ? 1 : 0;
  }

  static List<Results> run(List<Supplier<Peer>> peers, Plan plan, String heap, PrintStream out) throws Exception {
    return run(peers, plan, heap, out, false);
  }

  /**
   * Runs the plan against each peer in turn; a peer that fails is reported, not fatal. With
   * {@code profile}, each JVM server and this JVM are recorded with JFR from the peer's start
   * (after it is timed) to its last workload; the recordings are kept, for their stacks.
   */
  static List<Results> run(List<Supplier<Peer>> peers, Plan plan, String heap, PrintStream out, boolean profile)
      throws Exception {
    List<Results> all = new ArrayList<>();
    Path recordings = profile ? Files.createTempDirectory("lodestar-compare-profiles-") : null;
    for (Supplier<Peer> supplier : peers) {
      Path work = Files.createTempDirectory("lodestar-compare-");
      try (Peer peer = supplier.get()) {
        out.println("== " + peer.name());
        Results results = null;
        try {
          List<Double> starts = new ArrayList<>();
          List<String> earlierNotes = new ArrayList<>();
          for (int k = 1; k < plan.timedStarts(); k++) {
            Peer earlier = supplier.get();
            starts.add(timedStart(earlier, heap, out)); // closes it
            if (earlier.startNote() != null) {
              earlierNotes.add("start " + k + " of " + plan.timedStarts() + ": " + earlier.startNote());
            }
          }
          starts.add(timedStart(peer, work, heap, out));
          results = new Results(peer.name(), peer.version(), peer.settings());
          results.startsSeconds = List.copyOf(starts);
          results.startSeconds = median(starts);
          results.notes.addAll(earlierNotes);
          if (peer.startNote() != null) {
            results.notes.add(peer.startNote());
          }
          if (starts.size() > 1) {
            results.notes.add(String.format(Locale.ROOT, "start to ready is the median of %d starts, each on an empty "
                + "directory: %s s (the workloads ran on the last)", starts.size(),
                starts.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).collect(
                    java.util.stream.Collectors.joining(", "))));
          }
          out.printf("  %s: ready in %.1f s%s (%s)%n", peer.name(), results.startSeconds,
              starts.size() > 1 ? ", the median of " + starts.size() + " starts" : "", results.version);
          if (profile) {
            Results measured = results;
            profiled(peer, work, recordings, results, out, () -> new Workloads(peer, plan, out, measured).run());
          } else {
            new Workloads(peer, plan, out, results).run();
          }
        } catch (Exception e) {
          // what was measured before the failure stays in the report
          if (results == null) {
            results = new Results(peer.name(), safe(peer::version), safe(peer::settings));
          }
          results.error = e.getMessage() == null ? e.toString() : e.getMessage();
          out.println("  " + peer.name() + " FAILED: " + results.error + " (work directory kept: " + work + ")");
          all.add(results);
          continue;
        }
        all.add(results);
      }
      delete(work);
    }
    if (recordings != null) {
      out.println("JFR recordings, with their stacks, kept in " + recordings
          + " (read them with `jfr print --events jdk.ExecutionSample` or JDK Mission Control)");
    }
    return all;
  }

  /** Starts a peer that is thrown away after, on a directory of its own: an earlier timed start. */
  private static double timedStart(Peer peer, String heap, PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("lodestar-compare-start-");
    try {
      double seconds = timedStart(peer, dir, heap, out);
      out.printf("  %s: ready in %.2f s (an earlier start, timed)%n", peer.name(), seconds);
      return seconds;
    } finally {
      peer.close(); // its process must be gone before the directory is
      delete(dir);
    }
  }

  /** Waits for a quiet machine, then starts the peer and says how long it took to answer. */
  private static double timedStart(Peer peer, Path dir, String heap, PrintStream out) throws Exception {
    try {
      settle(out);
    } catch (java.io.IOException e) {
      out.println("  (could not read /proc/stat to wait for a quiet machine: " + e.getMessage() + ")");
    }
    long t0 = System.nanoTime();
    peer.start(dir, heap);
    return peer.measuredStartSeconds((System.nanoTime() - t0) / 1e9);
  }

  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  interface Work {
    void run() throws Exception;
  }

  /**
   * Runs {@code work} with JFR recording the server (a JVM peer's) and this JVM, then cuts both
   * recordings into the workloads' windows. A recording that cannot be made or read is noted, and
   * the measurements stand.
   */
  private static void profiled(Peer peer, Path work, Path recordings, Results results, PrintStream out,
      Work workloads) throws Exception {
    String prefix = peer.name().toLowerCase(java.util.Locale.ROOT);
    JfrProfile.Recorder server = null;
    if (peer.jvm()) {
      try {
        server = JfrProfile.process(peer.pid(), work);
      } catch (java.io.IOException e) {
        results.notes.add("the server could not be profiled: " + e.getMessage());
      }
    }
    JfrProfile.Recorder clients = JfrProfile.thisJvm();
    try {
      settle(out); // starting JFR costs the server a moment of CPU: not W1's
      workloads.run();
    } finally {
      Path clientFile = clients.stop(recordings.resolve(prefix + "-clients.jfr"));
      JfrProfile.Profile clientsProfile = JfrProfile.read(clientFile, results.windows);
      results.clientProfile.putAll(clientsProfile.samples());
      results.clientJit.putAll(clientsProfile.jit());
      if (server != null) {
        try {
          JfrProfile.Profile serverProfile = JfrProfile.read(server.stop(recordings.resolve(prefix + "-server.jfr")),
              results.windows);
          results.serverProfile.putAll(serverProfile.samples());
          results.serverJit.putAll(serverProfile.jit());
        } catch (java.io.IOException e) {
          results.notes.add("the server's profile could not be read: " + e.getMessage());
        }
      }
      for (String w : results.windows.keySet()) {
        out.println("  " + w + " Java samples: server " + JfrProfile.line(results.serverProfile.get(w))
            + "; clients " + JfrProfile.line(results.clientProfile.get(w)));
        out.println("  " + w + " JIT: server " + JfrProfile.line(results.serverJit.get(w))
            + "; clients " + JfrProfile.line(results.clientJit.get(w)));
      }
    }
  }

  /**
   * Before a peer starts: this JVM collects what the last peer's clients left, then the machine
   * is given up to 60 s to be 90 % idle over a second, so every server starts on a quiet machine.
   */
  private static void settle(PrintStream out) throws java.io.IOException, InterruptedException {
    long t0 = System.nanoTime();
    System.gc();
    double idle = Proc.awaitQuiet(0.9, java.time.Duration.ofSeconds(60));
    double waited = (System.nanoTime() - t0) / 1e9;
    if (idle < 0.9) {
      out.printf("  (the machine was still %.0f %% busy after %.0f s; starting anyway)%n", (1 - idle) * 100, waited);
    } else if (waited > 2) {
      out.printf("  (waited %.0f s for a quiet machine)%n", waited);
    }
  }

  static Supplier<Peer> peer(String name) {
    return switch (name) {
      case "etcd" -> EtcdPeer::new;
      case "zookeeper" -> ZooKeeperPeer::new;
      case "eureka" -> EurekaPeer::new;
      case "lodestar" -> LodestarPeer::new;
      default -> null;
    };
  }

  private static String safe(Callable<String> f) {
    try {
      return f.call();
    } catch (Exception e) {
      return "?";
    }
  }

  private static void delete(Path dir) throws java.io.IOException {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " / " + f[1] + " / " + f[2];
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
    } catch (Exception e) {
      return "unknown CPU";
    }
  }
}
