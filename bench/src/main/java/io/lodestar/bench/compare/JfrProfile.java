package io.lodestar.bench.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a process's Java time went in each workload, from JFR's execution samples: one recording
 * per process over a peer's whole run (the server's through {@code jcmd}, the clients' in this JVM),
 * cut afterwards into the workloads' windows. Only {@code jdk.ExecutionSample} is enabled, every
 * 10 ms, so the recording costs the profiled process little and adds no other events.
 *
 * <p>A sample is put down to two things: the code that asked for the time (the package of its first
 * frame outside the JDK, so a {@code HashMap.get} called by the registry counts as the registry's)
 * and the method on top of the stack (its own time), with that first frame outside the JDK when the
 * method on top is the JDK's. Threads in native code (a {@code writev}, an
 * {@code epoll_wait}), the JIT compilers and the collector are not sampled; the per-thread CPU
 * table has them.
 *
 * <p>The same recordings also hold every compilation ({@code jdk.Compilation}, no threshold), so a
 * window whose CPU went to a compiler thread says what it compiled ({@link #jit}): a short workload
 * on a fresh JVM spends much of its CPU there. A method compiled again at the same tier (after a
 * deoptimisation: its profile no longer held, say because another peer's client ran the same
 * library code with other types in this JVM) is counted apart.
 */
final class JfrProfile {
  static final Duration PERIOD = Duration.ofMillis(10);
  private static final String EVENT = "jdk.ExecutionSample";
  private static final String COMPILATION = "jdk.Compilation";
  /** Code groups and methods kept per window. */
  static final int TOP = 5;
  private static final String[] JDK = {"java.", "javax.", "jdk.", "sun.", "com.sun."};

  private JfrProfile() {}

  /** What one process spent its sampled Java time on in one window. */
  record Summary(long samples, List<Share> code, List<Share> methods) {}

  /** A code group or method and its share of the window's samples, 0–1. */
  record Share(String name, double share) {}

  /**
   * What one process's JIT compiled in one window: the compilations that started in it, their time
   * (each compilation's duration: its compiler thread's wall time, which exceeds that thread's CPU
   * when the cores are busy), how much of that compiled a method again at a tier it had been
   * compiled at before in this JVM, and the time's shares by the compiled method's code group and
   * by method.
   */
  record Jit(int compilations, double seconds, int again, double againSeconds, List<Share> code,
      List<Share> methods) {}

  /** One compilation: the method (its class, name and descriptor), the tier, OSR or not, and when. */
  record Compilation(String className, String method, String descriptor, int level, boolean osr, Instant start,
      Duration duration) {}

  /** A running recording; {@link #stop} ends it and returns its file. */
  interface Recorder {
    Path stop(Path file) throws Exception;
  }

  /** Records this JVM: the benchmark's clients. */
  static Recorder thisJvm() {
    Recording r = new Recording();
    r.setName("bench-clients");
    r.enable(EVENT).withPeriod(PERIOD);
    r.enable(COMPILATION).withThreshold(Duration.ZERO);
    r.setToDisk(true);
    r.start();
    return file -> {
      r.stop();
      r.dump(file);
      r.close();
      return file;
    };
  }

  /** Records another JVM (a peer's server) through {@code jcmd}, with settings written to {@code dir}. */
  static Recorder process(long pid, Path dir) throws IOException, InterruptedException {
    Path settings = dir.resolve("execution-samples.jfc");
    Files.writeString(settings, """
        <?xml version="1.0" encoding="UTF-8"?>
        <configuration version="2.0" label="bench compare" description="Java execution samples only">
          <event name="%s">
            <setting name="enabled">true</setting>
            <setting name="period">%d ms</setting>
          </event>
          <event name="%s">
            <setting name="enabled">true</setting>
            <setting name="threshold">0 ms</setting>
          </event>
        </configuration>
        """.formatted(EVENT, PERIOD.toMillis(), COMPILATION), StandardCharsets.UTF_8);
    String name = "bench-server";
    expect(Proc.jcmd(pid, "JFR.start", "name=" + name, "settings=" + settings), "Started recording");
    return file -> {
      expect(Proc.jcmd(pid, "JFR.stop", "name=" + name, "filename=" + file.toAbsolutePath()), "Stopped recording");
      return file;
    };
  }

  private static void expect(String jcmdOutput, String success) throws IOException {
    if (!jcmdOutput.contains(success)) {
      throw new IOException("jcmd: " + jcmdOutput.strip());
    }
  }

  /** One recording cut into windows: each window's execution samples and compilations. */
  record Profile(Map<String, Summary> samples, Map<String, Jit> jit) {}

  /**
   * Reads a recording once and cuts it into {@code windows} (name → [start, end)), each kept in the
   * windows' order: the samples summarized, the compilations counted ({@link #jit(List, Map)}).
   */
  static Profile read(Path recording, Map<String, Instant[]> windows) throws IOException {
    Map<String, Counts> counts = new LinkedHashMap<>();
    windows.keySet().forEach(k -> counts.put(k, new Counts()));
    List<Compilation> compilations = new ArrayList<>();
    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        String type = e.getEventType().getName();
        if (type.equals(EVENT)) {
          if (e.getStackTrace() == null || e.getStackTrace().getFrames().isEmpty()) {
            continue;
          }
          for (Map.Entry<String, Instant[]> w : windows.entrySet()) {
            if (within(e.getStartTime(), w.getValue())) {
              counts.get(w.getKey()).add(e.getStackTrace().getFrames());
            }
          }
        } else if (type.equals(COMPILATION) && e.hasField("method")) {
          jdk.jfr.consumer.RecordedMethod m = e.getValue("method");
          if (m != null && m.getType() != null) {
            compilations.add(new Compilation(m.getType().getName(), m.getName(), m.getDescriptor(),
                ((Number) e.getValue("compileLevel")).intValue(), e.getBoolean("isOsr"), e.getStartTime(),
                e.getDuration()));
          }
        }
      }
    }
    Map<String, Summary> samples = new LinkedHashMap<>();
    counts.forEach((k, c) -> samples.put(k, c.summary()));
    return new Profile(samples, jit(compilations, windows));
  }

  /** Whether {@code at} falls in {@code window}: [start, end). */
  private static boolean within(Instant at, Instant[] window) {
    return !at.isBefore(window[0]) && at.isBefore(window[1]);
  }

  /**
   * Each window's compilations, from every compilation of the JVM's life (the earlier ones tell a
   * compilation that is one again).
   */
  static Map<String, Jit> jit(List<Compilation> all, Map<String, Instant[]> windows) {
    List<Compilation> byStart = new ArrayList<>(all);
    byStart.sort(java.util.Comparator.comparing(Compilation::start));
    Map<String, JitCounts> counts = new LinkedHashMap<>();
    windows.keySet().forEach(k -> counts.put(k, new JitCounts()));
    java.util.Set<String> compiled = new java.util.HashSet<>();
    for (Compilation c : byStart) {
      boolean again = !compiled.add(c.className() + '.' + c.method() + c.descriptor() + '@' + c.level()
          + (c.osr() ? " osr" : ""));
      for (Map.Entry<String, Instant[]> w : windows.entrySet()) {
        if (within(c.start(), w.getValue())) {
          counts.get(w.getKey()).add(c, again);
        }
      }
    }
    Map<String, Jit> out = new LinkedHashMap<>();
    counts.forEach((k, c) -> out.put(k, c.jit()));
    return out;
  }

  /** "2.71 s in 296 compilations (again: 0.62 s in 7): io.grpc.internal 38 %, …; longest MessageDeframer.deliver 11 %, …", or "–". */
  static String line(Jit j) {
    if (j == null) {
      return "–";
    }
    if (j.compilations() == 0) {
      return "no compilations";
    }
    return String.format(java.util.Locale.ROOT, "%.2f s in %d compilations (again: %.2f s in %d): %s; longest %s",
        j.seconds(), j.compilations(), j.againSeconds(), j.again(), shares(j.code()), shares(j.methods()));
  }

  /** One summary on one line: "812 samples: io.netty.handler 31 %, …; hottest: Foo.bar 4 %, …", or "–". */
  static String line(Summary s) {
    if (s == null) {
      return "–";
    }
    if (s.samples() == 0) {
      return "no samples";
    }
    return s.samples() + " samples: " + shares(s.code()) + "; hottest " + shares(s.methods());
  }

  /** "io.netty.handler 31 %, io.grpc.internal 12 %". */
  static String shares(List<Share> shares) {
    return shares.stream().map(x -> x.name() + " " + Math.round(x.share() * 100) + " %")
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /** "io.netty.handler.codec.http2.X" → "io.netty.handler": at most three names of the class's package, the library or module that owns the code. */
  static String codeGroup(String className) {
    int dot = -1;
    for (int i = 0; i < 3; i++) {
      int next = className.indexOf('.', dot + 1);
      if (next < 0) {
        break;
      }
      dot = next;
    }
    return dot < 0 ? className : className.substring(0, dot);
  }

  private static boolean jdk(String className) {
    for (String p : JDK) {
      if (className.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  static final class JitCounts {
    int compilations;
    int again;
    long nanos;
    long againNanos;
    final Map<String, Long> code = new HashMap<>();
    final Map<String, Long> methods = new HashMap<>();

    void add(Compilation c, boolean isAgain) {
      long n = c.duration().toNanos();
      compilations++;
      nanos += n;
      if (isAgain) {
        again++;
        againNanos += n;
      }
      code.merge(codeGroup(c.className()), n, Long::sum);
      methods.merge(Counts.simpleName(c.className()) + "." + c.method(), n, Long::sum);
    }

    Jit jit() {
      return new Jit(compilations, nanos / 1e9, again, againNanos / 1e9, top(code, nanos), top(methods, nanos));
    }
  }

  /** The {@link #TOP} largest entries, as shares of {@code total}. */
  private static List<Share> top(Map<String, Long> m, long total) {
    List<Share> shares = new ArrayList<>();
    m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey())).limit(TOP)
        .forEach(e -> shares.add(new Share(e.getKey(), total == 0 ? 0 : e.getValue() / (double) total)));
    return shares;
  }

  static final class Counts {
    long samples;
    final Map<String, Long> code = new HashMap<>();
    final Map<String, Long> methods = new HashMap<>();

    void add(List<RecordedFrame> frames) {
      samples++;
      int caller = -1;
      for (int i = 0; i < frames.size() && caller < 0; i++) {
        if (!jdk(frames.get(i).getMethod().getType().getName())) {
          caller = i;
        }
      }
      // a JDK method on top says little alone (whose String.charAt?): it names its caller
      String method = method(frames.get(0));
      methods.merge(caller > 0 ? method + " ← " + method(frames.get(caller)) : method, 1L, Long::sum);
      code.merge(caller < 0 ? "JDK" : codeGroup(frames.get(caller).getMethod().getType().getName()), 1L, Long::sum);
    }

    Summary summary() {
      return new Summary(samples, top(code, samples), top(methods, samples));
    }

    private static String method(RecordedFrame f) {
      return simpleName(f.getMethod().getType().getName()) + "." + f.getMethod().getName();
    }

    /** "a.b.Foo" → "Foo"; a hidden class ("a.b.Foo$$Lambda$12.640935133") → "Foo$$Lambda$12". */
    static String simpleName(String className) {
      String name = className;
      int dot = name.lastIndexOf('.');
      if (dot > 0 && name.substring(dot + 1).chars().allMatch(Character::isDigit)) {
        name = name.substring(0, dot);
        dot = name.lastIndexOf('.');
      }
      return name.substring(dot + 1);
    }
  }
}
