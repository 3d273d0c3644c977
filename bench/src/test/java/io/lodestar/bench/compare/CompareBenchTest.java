package io.lodestar.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison's harness end to end, against real servers, at a size that proves the plumbing. */
class CompareBenchTest {
  private static final Plan TINY = new Plan("tiny", 2, 5, 2, 5, 3, 3, Duration.ofMillis(50), Duration.ofSeconds(30),
      List.of(10), Duration.ofSeconds(1), 2, Duration.ofSeconds(1), Duration.ofMinutes(2), List.of(20),
      Duration.ofMinutes(2), 2);

  @BeforeAll
  static void home() {
    // the bench module's tests run in bench/; the server jar is in ../server/target
    System.setProperty("lodestar.home", Path.of("..").toAbsolutePath().normalize().toString());
  }

  @Test
  void lodestarClientRegistersWatchesAndReads(@TempDir Path work) throws Exception {
    try (Peer peer = new LodestarPeer()) {
      peer.start(work, "256m");
      AtomicReference<Set<String>> seen = new AtomicReference<>(Set.of());
      try (PeerClient writer = peer.client(); PeerClient watcher = peer.client()) {
        AutoCloseable watch = watcher.watch("svc", seen::set);
        Inst one = new Inst("svc", "a", "10.0.0.1", 1, Map.of("zone", "z1"));
        writer.register(one);
        writer.register(new Inst("svc", "b", "10.0.0.2", 2, Map.of()));
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.get().equals(Set.of("a", "b")));
        assertThat(watcher.read("svc")).isEqualTo(2);
        writer.deregister(one);
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.get().equals(Set.of("b")));
        writer.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.read("svc") == 0);
        watch.close();
      }
    }
  }

  @Test
  void theStartRowIsTheMedianStart() {
    assertThat(CompareBench.median(List.of(2.9, 1.2, 1.5))).isEqualTo(1.5);
    assertThat(CompareBench.median(List.of(1.4))).isEqualTo(1.4);
  }

  @Test
  void runMeasuresEveryWorkloadAndWritesTheReport(@TempDir Path dir) throws Exception {
    // ZooKeeper runs from jars on the class path, so CI needs nothing installed for it
    List<Supplier<Peer>> peers = List.of(CompareBench.peer("zookeeper"), CompareBench.peer("lodestar"));
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    List<Results> results = CompareBench.run(peers, TINY, "256m", new java.io.PrintStream(printed, true,
        java.nio.charset.StandardCharsets.UTF_8), true); // with --profile
    String output = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
    System.out.print(output);

    assertThat(results).extracting(x -> x.peer).containsExactly("ZooKeeper", "Lodestar");
    assertThat(results).allSatisfy(x -> {
      assertThat(x.error).isNull();
      assertThat(x.registrationsPerSecond).isPositive();
      assertThat(x.notifyMissed).isZero();
      assertThat(x.readsPerSecond).isPositive();
    });
    Results r = results.get(1);
    assertThat(r.error).isNull();
    assertThat(r.registrationsPerSecond).isPositive();
    assertThat(r.notifyMissed).isZero();
    assertThat(r.notifyP99Ms).isPositive();
    assertThat(r.readsPerSecond).isPositive();
    // every peer is started as often as the plan says, and the row is the median of those starts
    assertThat(results).allSatisfy(x -> {
      assertThat(x.startsSeconds).hasSize(2).allSatisfy(s -> assertThat(s).isPositive());
      assertThat(x.startSeconds).isEqualTo((x.startsSeconds.get(0) + x.startsSeconds.get(1)) / 2);
      assertThat(x.notes).anyMatch(n -> n.startsWith("start to ready is the median of 2 starts"));
    });
    // the timed start says what it cost in CPU and whether it mapped the launcher's archive
    assertThat(r.notes).anyMatch(
        n -> n.matches("the timed start used [0-9.]+ s of CPU to ready and (mapped|did not map) .*"));
    assertThat(r.tier(10).cpuSeconds()).isNotNegative();
    assertThat(r.tier(10).rssBytes()).isPositive();
    assertThat(r.tier(10).liveHeapBytes()).isPositive();
    // each measured workload keeps the server's CPU per thread group, so a slow run shows where it went
    assertThat(results).allSatisfy(x -> assertThat(x.serverThreadCpu).containsKeys("W1 10", "W2", "W3 10", "W4")
        .allSatisfy((workload, threads) -> assertThat(threads.values()).allMatch(v -> v >= 0.005)));
    // and the clients' (this JVM's) CPU per thread group where they do the work: W1, W2 and W4
    assertThat(results).allSatisfy(x -> assertThat(x.clientThreadCpu).containsKeys("W1 10", "W2", "W4")
        .allSatisfy((workload, threads) -> assertThat(threads).isNotEmpty()
            .allSatisfy((group, seconds) -> assertThat(seconds).isGreaterThanOrEqualTo(0.005))));

    // --profile: both JVM servers and the clients recorded, cut into W1, W2 and W4
    assertThat(results).allSatisfy(x -> {
      assertThat(x.serverProfile).containsKeys("W1 10", "W2", "W4");
      assertThat(x.clientProfile).containsKeys("W1 10", "W2", "W4");
      // and what their JIT compiled there: a fresh server compiles while it registers the first instances
      assertThat(x.serverJit).containsKeys("W1 10", "W2", "W4");
      assertThat(x.clientJit).containsKeys("W1 10", "W2", "W4");
      assertThat(x.serverJit.get("W1 10").compilations()).isPositive();
      assertThat(x.serverJit.get("W1 10").again()).isBetween(0, x.serverJit.get("W1 10").compilations());
    });
    assertThat(output).containsPattern("W1 10 JIT: server [0-9.]+ s in [0-9]+ compilations \\(again: ");
    // the recordings are kept for their stacks, one per process and peer, and read back alike
    var kept = java.util.regex.Pattern.compile("JFR recordings, with their stacks, kept in (\\S+) ").matcher(output);
    assertThat(kept.find()).as(output).isTrue();
    Path recordings = Path.of(kept.group(1));
    try (var files = Files.list(recordings)) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(
          "zookeeper-server.jfr", "zookeeper-clients.jfr", "lodestar-server.jfr", "lodestar-clients.jfr");
    }
    var windows = new java.util.LinkedHashMap<String, java.time.Instant[]>();
    windows.put("all", new java.time.Instant[] {java.time.Instant.EPOCH, java.time.Instant.now()});
    assertThat(JfrProfile.read(recordings.resolve("lodestar-server.jfr"), windows).samples().get("all").samples())
        .isGreaterThanOrEqualTo(r.serverProfile.get("W4").samples());
    try (var files = Files.list(recordings)) {
      files.forEach(f -> f.toFile().delete());
    }
    Files.delete(recordings);
    JfrProfile.Summary w4 = r.serverProfile.get("W4"); // a second of reads keeps the server's threads running
    assertThat(w4.samples()).isPositive();
    assertThat(w4.code()).isNotEmpty().allSatisfy(x -> assertThat(x.share()).isBetween(0.0, 1.0));
    assertThat(w4.code().stream().mapToDouble(JfrProfile.Share::share).sum()).isLessThanOrEqualTo(1.0 + 1e-9);
    assertThat(r.clientProfile.get("W4").samples()).isPositive();

    Path md = dir.resolve("benchmarks.md");
    Files.writeString(md, "# Benchmarks\n\nEarlier text stays.\n");
    Report report = new Report(results, TINY, "header line");
    report.writeInto(md);
    report.writeInto(md); // a second run replaces the section, not appends another
    String text = Files.readString(md);
    assertThat(text).startsWith("# Benchmarks\n\nEarlier text stays.");
    assertThat(text.split(java.util.regex.Pattern.quote(Report.BEGIN), -1)).hasSize(2);
    double ratio = r.registrationsPerSecond / results.get(0).registrationsPerSecond;
    assertThat(text).containsPattern("\\| W1 registration, 10 instances from 2 clients \\(instances/s\\) \\| [0-9,]+ \\| "
        + "[0-9,]+ \\| " + java.util.regex.Pattern.quote(String.format(java.util.Locale.ROOT, "%.2f", ratio))
        + " \\| ≥ 2× best \\| (\\*\\*met\\*\\*|not met) \\|")
        .contains("Live heap per instance at 10: Lodestar");
    assertThat(text).contains("| W1 registration, 10 instances from 2 clients (instances/s) |")
        .contains("| W4 uncached reads of 5 instances").contains("header line");
    // where each workload's CPU went, per peer, from the same readings: server and clients side by side
    String lodestarW1Server = r.serverThreadCpu.get("W1 10").keySet().iterator().next();
    assertThat(text).contains("Where the CPU went")
        .containsPattern("\\| W1, 10 registrations \\| ZooKeeper \\| [^|]+ [0-9]+\\.[0-9]{2}[^|]* \\| [^|]+ [0-9]+\\.[0-9]{2}")
        .containsPattern("\\| W1, 10 registrations \\| Lodestar \\| "
            + java.util.regex.Pattern.quote(lodestarW1Server) + " [0-9]+\\.[0-9]{2}")
        .containsPattern("\\| W3, 10 held \\| Lodestar \\| [^|]+ \\| – \\|")
        .containsPattern("\\| W4 \\| Lodestar \\| [^|]+ [0-9]+\\.[0-9]{2}")
        .containsPattern("\\| W2, [0-9]+ changes \\| Lodestar \\| [^|]+ \\| [^|]+ \\|");
    // and where their Java time went, when profiled
    assertThat(text).contains("Where the Java time went")
        .containsPattern("\\| W4 \\| Lodestar \\| server \\| " + w4.samples() + " \\| [^|]+ [0-9]+ % [^|]*\\| [^|]+\\.[^|]+ [0-9]+ %")
        .containsPattern("\\| W1, 10 registrations \\| ZooKeeper \\| clients \\| [0-9]+ \\|");
    // and what their JIT compiled
    JfrProfile.Jit w1Jit = r.serverJit.get("W1 10");
    assertThat(text).contains("What the JIT compiled").containsPattern("\\| W1, 10 registrations \\| Lodestar \\| server \\| "
        + w1Jit.compilations() + " \\| [0-9]+\\.[0-9]{2} \\| [0-9]+ \\([0-9]+\\.[0-9]{2}\\) \\| [^|]+ [0-9]+ % [^|]*\\| [^|]+\\.[^|]+ [0-9]+ %");
    // what a W2 change cost each side, per peer
    assertThat(results).allSatisfy(x -> assertThat(x.notifyServerCpuMsPerChange).isPositive());
    assertThat(results).allSatisfy(x -> assertThat(x.notifyClientCpuMsPerChange).isPositive());
    String cost = "[0-9]+\\.[0-9]{2} \\+ [0-9]+\\.[0-9]{2}";
    assertThat(text).containsPattern("W2's CPU per change, .* ZooKeeper " + cost + " \\(" + cost
        + " without the JIT compilers\\), Lodestar " + cost + " \\(" + cost + " without the JIT compilers\\);");
    // and each change's first, median and last watcher, in the order the changes were issued
    assertThat(r.notifyByChange).hasDimensions(TINY.changes(), 3);
    for (double[] c : r.notifyByChange) {
      assertThat(c[0]).isPositive();
      assertThat(c[1]).isBetween(c[0], c[2]);
    }
    String ms = "[0-9]+\\.[0-9]";
    String change = "#[0-9]+ " + ms + " / " + ms + " / " + ms;
    assertThat(text).containsPattern("W2 change by change, .* ZooKeeper first " + ms + ", last \\+" + ms
        + ", slowest " + change + "(, " + change + ")*; Lodestar first " + ms);

    // the scale tier is Lodestar's alone, held after the compared ones
    assertThat(r.tier(20).registrationsPerSecond()).isPositive();
    assertThat(r.tier(20).liveHeapBytes()).isPositive();
    assertThat(results.get(0).tier(20)).isNull();
    assertThat(text).contains("Lodestar's scale tiers").containsPattern("\\| 20 \\| [0-9,]+ \\|")
        .contains("| Start to ready: launch to first answer (s) |");

    // raw results kept per run, read back for the chart of every ratio across runs
    Path runs = dir.resolve("bench").resolve("runs");
    var ratios = Report.ratios(results, TINY);
    assertThat(ratios.get("W1 registration, 10 instances from 2 clients (instances/s)")).isCloseTo(ratio,
        org.assertj.core.data.Offset.offset(1e-9));
    RunLog.write(runs, new RunLog.Run("2026-11-27T10:00:00Z", "tiny", "bench compare", "1", "2", "git x", ratios,
        results));
    RunLog.write(runs, new RunLog.Run("2026-11-30T10:00:00Z", "tiny", "bench compare", "1", "2", "git y", ratios,
        results));
    List<RunLog.Run> back = RunLog.readAll(runs);
    assertThat(back).extracting(RunLog.Run::revision).containsExactly("git x", "git y");
    assertThat(back.get(1).results()).extracting(x -> x.peer).containsExactly("ZooKeeper", "Lodestar");
    assertThat(back.get(1).results().get(1).tier(10).rssBytes()).isEqualTo(r.tier(10).rssBytes());
    assertThat(back.get(1).results().get(1).serverProfile.get("W4")).isEqualTo(w4);
    assertThat(back.get(1).results().get(1).serverJit.get("W1 10")).isEqualTo(w1Jit);
    assertThat(back.get(1).ratios()).containsOnlyKeys(ratios.keySet());
    Charts.writeTrend(back, dir.resolve("bench"));
    assertThat(ImageIO.read(dir.resolve("bench").resolve("compare-trend.png").toFile()).getWidth()).isEqualTo(960);
    // each run is told apart on the trend's axis by its start (and its plan, when not the full one)
    assertThat(Charts.runLabel(back.get(1))).isEqualTo("11-30 10:00 tiny");
    assertThat(Charts.runLabel(new RunLog.Run("2026-12-02T17:33:13Z", "full", "bench compare", "1", "2", "git z",
        ratios, results))).isEqualTo("12-02 17:33");

    Charts.write(results, TINY, dir.resolve("bench"));
    for (String png : List.of("compare-w1.png", "compare-w2.png", "compare-w3-cpu.png", "compare-w3-memory.png",
        "compare-w4.png")) {
      BufferedImage image = ImageIO.read(dir.resolve("bench").resolve(png).toFile());
      assertThat(image.getWidth()).as(png).isEqualTo(640);
    }
  }

  @Test
  void theReportSaysHowBusyW1KeptTheCoresAndWhatTheRateTargetAsks() {
    Results zk = new Results("ZooKeeper", "v", "s");
    zk.registrationsPerSecond = 3587;
    zk.registerServerCpuPer1k = 0.30;
    zk.registerClientCpuPer1k = 0.23;
    Results failed = new Results("Eureka", "v", "s"); // no W1 figures: left out, not NaN
    Results lodestar = new Results("Lodestar", "v", "s");
    lodestar.registrationsPerSecond = 3440;
    lodestar.registerServerCpuPer1k = 0.19;
    lodestar.registerClientCpuPer1k = 0.36;

    String md = new Report(List.of(zk, failed, lodestar), TINY, "h", 2).markdown();

    assertThat(md).contains("kept ZooKeeper 1.90, Lodestar 1.89 of the machine's 2 cores busy")
        .contains("Lodestar's 0.55 ms allows at most 3,636 per s here; twice ZooKeeper's rate (7,174 per s) needs "
            + "at most 0.28 ms.")
        .doesNotContain("NaN");
    assertThat(new Report(List.of(zk, failed), TINY, "h", 2).markdown()).doesNotContain("bound by CPU");
    // a run whose clients mostly waited states how busy the cores were, and no bound
    lodestar.registrationsPerSecond = 1000;
    assertThat(new Report(List.of(zk, failed, lodestar), TINY, "h", 2).markdown())
        .contains("Over W1 the server and the clients kept ZooKeeper 1.90, Lodestar 0.55 of the machine's 2 cores busy.")
        .doesNotContain("bound by CPU");
  }

  @Test
  void theReportSaysWhatAW2ChangeCostEachSideWithAndWithoutTheCompilers() {
    Results etcd = new Results("etcd", "v", "s"); // no thread groups: the figures alone
    etcd.notifyServerCpuMsPerChange = 4.6;
    etcd.notifyClientCpuMsPerChange = 15.2;
    Results lodestar = new Results("Lodestar", "v", "s");
    lodestar.notifyServerCpuMsPerChange = 5.2;
    lodestar.notifyClientCpuMsPerChange = 14.8;
    lodestar.serverThreadCpu.put("W2", Map.of("armeria-common-", 0.010, "C1 CompilerThre", 0.003));
    lodestar.clientThreadCpu.put("W2", Map.of("C2 CompilerThre", 0.0219, "grpc-default-wo", 0.010));

    String md = new Report(List.of(etcd, lodestar), TINY, "h", 2).markdown(); // TINY: 3 changes, 3 watchers

    assertThat(md).contains("server + clients (the 3 watchers and the writer), in ms: etcd 4.60 + 15.20, "
        + "Lodestar 5.20 + 14.80 (4.20 + 7.50 without the JIT compilers); each change's fan-out runs on the "
        + "machine's 2 cores");
  }

  @Test
  void aPeerThatFailsToStartIsReportedAndTheRunGoesOn() throws Exception {
    Supplier<Peer> broken = () -> new LodestarPeer() {
      @Override
      public void start(Path workDir, String heap) {
        throw new IllegalStateException("cannot start");
      }
    };
    List<Results> results = CompareBench.run(List.of(broken), TINY, "256m", System.out);
    assertThat(results).singleElement().satisfies(r -> assertThat(r.error).isEqualTo("cannot start"));
    assertThat(new Report(results, TINY, "h").markdown()).contains("**Failed: cannot start**");
  }
}
