package io.lodestar.bench.compare;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A peer's server process, read from outside: CPU, RSS and live heap, as the report needs them. */
final class Proc {
  private static final double CLK_TCK = 100;

  private Proc() {}

  /** Starts a command with its output appended to {@code log}. */
  static Process start(List<String> command, Path log, Path dir) throws IOException {
    return new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
  }

  /** The java executable this tool runs on: every JVM peer runs on the same one. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A free loopback port below the ephemeral range's usual start, so clients cannot take it first. */
  static int freePort() throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = 20000 + (int) (Math.random() * 12000);
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no free port between 20000 and 32000");
  }

  /**
   * Polls {@code ready} until it returns true, the process dies or {@code timeout} passes: waiting
   * for a child process to start, not test synchronisation. Every 100 ms, which rounds a start up by
   * up to that, but finer polls measured worse (twentieth session, docs/benchmarks.md): each peer's
   * check every 10 ms (java.net.http for Lodestar) slowed Lodestar's starts to 1.33-1.74 s, and a
   * bare TCP connect every 10 ms until the port accepted, then the check every 20 ms, made two of
   * ZooKeeper's three starts take 2.9-3.1 s.
   */
  static void awaitReady(Process process, Duration timeout, Path log, Callable<Boolean> ready) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        if (ready.call()) {
          return;
        }
      } catch (Exception notYet) {
        // not up yet
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("exited with " + process.exitValue() + " during start; see " + log);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not ready within " + timeout.toSeconds() + " s; see " + log);
      }
      Thread.sleep(100);
    }
  }

  /**
   * Waits, up to {@code max}, until the machine's CPUs were at least {@code idleShare} idle over one
   * second (the {@code cpu} line of {@code /proc/stat}); returns that last second's idle share. What a
   * peer's run leaves behind (its clients' threads winding down, this JVM's compiler and collector
   * catching up) otherwise lands on the next peer's start: measured, the benchmark's own JVM used
   * a whole core through Lodestar's start after Eureka's failed tier, making it 2.1-2.5 s against
   * 1.4 s alone.
   */
  static double awaitQuiet(double idleShare, Duration max) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    long[] before = cpuTimes();
    while (true) {
      Thread.sleep(1000);
      long[] after = cpuTimes();
      double total = after[0] - before[0];
      double idle = total <= 0 ? 1 : (after[1] - before[1]) / total;
      if (idle >= idleShare || System.nanoTime() > deadline) {
        return idle;
      }
      before = after;
    }
  }

  /** All CPUs' jiffies: total, and idle + iowait. */
  private static long[] cpuTimes() throws IOException {
    String line = Files.readAllLines(Path.of("/proc/stat")).get(0); // "cpu  user nice system idle iowait ..."
    String[] f = line.trim().split("\\s+");
    long total = 0;
    for (int i = 1; i < f.length && i <= 8; i++) { // up to steal; guest time is already in user
      total += Long.parseLong(f[i]);
    }
    return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
  }

  /** Stops a process: SIGTERM, then SIGKILL after 10 s. */
  static void stop(Process process) throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroy();
    if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  /** CPU seconds (user + system) the process has used. */
  static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / CLK_TCK;
  }

  /**
   * CPU seconds (user + system) per thread group of a process: threads named alike but for their
   * trailing numbers ({@code armeria-common-worker-nio-2-1}, {@code -2-2}) add up under one name.
   * Linux keeps 15 characters of a name. Threads that ended since are not counted; a run reads it
   * before and after a workload.
   */
  static Map<String, Double> threadCpuSeconds(long pid) throws IOException {
    Map<String, Double> out = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException gone) {
          continue; // the thread ended between the listing and the read
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / CLK_TCK;
        out.merge(threadGroup(name), cpu, Double::sum);
      }
    }
    return out;
  }

  /** A thread's name without its trailing numbers and their separators. */
  static String threadGroup(String name) {
    String g = name.replaceAll("([-#_ ]?\\d+)+$", "");
    return g.isEmpty() ? name : g;
  }

  /** What each thread group used between two readings, the largest first, groups under 5 ms left out. */
  static Map<String, Double> threadCpuSince(Map<String, Double> before, Map<String, Double> after) {
    Map<String, Double> out = new LinkedHashMap<>();
    after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
        .filter(e -> e.getValue() >= 0.005)
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> out.put(e.getKey(), Math.round(e.getValue() * 1000) / 1000.0));
    return out;
  }

  /** Resident set size in bytes. */
  static long rssBytes(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for " + pid);
  }

  /**
   * Heap in use right after a full GC, via jcmd (GC.run, then GC.heap_info), the least of
   * {@value #FULL_GCS} in a row; -1 if unreadable. Serial and Parallel full GCs leave runs of dead
   * objects in place near the bottom of the old generation, as filler {@code int[]}s, up to
   * {@code MarkSweepDeadRatio} (5 %) of its capacity, except every
   * {@code MarkSweepAlwaysCompactCount}-th (4th) collection, which compacts everything: one GC
   * could count up to a few MB of garbage as live, a different amount each run (docs/benchmarks.md,
   * "Live heap at 10,000"). G1 leaves none, so a G1 peer reads the same after each.
   */
  static long liveHeapBytes(long pid) throws IOException, InterruptedException {
    long least = -1;
    for (int i = 0; i < FULL_GCS; i++) {
      long used = usedAfterFullGc(pid);
      if (used >= 0 && (least < 0 || used < least)) {
        least = used;
      }
    }
    return least;
  }

  /** Enough full GCs in a row for one of them to be a serial GC's maximal compaction. */
  private static final int FULL_GCS = 4;

  private static long usedAfterFullGc(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    // G1: " garbage-first heap   total 1048576K, used 23456K"; Serial/Parallel: one line per
    // generation. Metaspace and class space lines say "used" too, and are not heap.
    Pattern used = Pattern.compile("used (\\d+)K");
    long sum = 0;
    for (String line : info.split("\n")) {
      if (line.contains("Metaspace") || line.contains("class space")) {
        continue;
      }
      Matcher m = used.matcher(line);
      if (m.find()) {
        sum += Long.parseLong(m.group(1)) * 1024;
        if (line.contains("garbage-first heap")) {
          break; // G1's first line is the whole heap
        }
      }
    }
    return sum == 0 ? -1 : sum;
  }

  /** Runs {@code jcmd pid command args...} and returns its output. */
  static String jcmd(long pid, String command, String... args) throws IOException, InterruptedException {
    List<String> line = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd")
        .toString(), Long.toString(pid), command));
    line.addAll(List.of(args));
    Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }
}
