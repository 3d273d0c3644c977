package io.lodestar.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code bench naming} against real servers. Its streams all come from this one process, one
 * address, while they stand in for many clients: the server's per-address stream limit
 * ({@code --max-streams-per-address}, 1,000 by default) is what these tests are about.
 */
class NamingBenchTest {
  @BeforeAll
  static void home() {
    // the bench module's tests run in bench/; the server jar is in ../server/target
    System.setProperty("lodestar.home", Path.of("..").toAbsolutePath().normalize().toString());
  }

  private record Run(int exitCode, String report) {}

  private static Run run(String... args) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    NamingBench bench = new NamingBench();
    bench.report = new PrintStream(buf, true, UTF_8);
    int code = new CommandLine(bench).execute(args);
    return new Run(code, buf.toString(UTF_8));
  }

  @Test
  void aServerItStartsTakesMoreStreamsThanTheDefaultLimitAndEverySubscriberGetsEveryChange() {
    // 2 registration streams + 1,000 subscribers + the push writer: past the default of 1,000
    Run r = run("--server-heap", "256m", "--cluster-nodes", "0", "--instances", "20", "--connections", "2",
        "--services", "2", "--hold-seconds", "1", "--subscribers", "1000", "--changes", "3",
        "--change-interval-ms", "1");

    assertThat(r.exitCode()).as(r.report()).isZero();
    assertThat(r.report()).contains("Push to 1,000 subscribers, 3 changes (all delivered)");
  }

  @Test
  void aSecondRunAgainstTheSameServerCountsOnlyItsOwnChanges() throws Exception {
    try (ServerUnderTest s = ServerUnderTest.start("256m", 1, 1000)) {
      String[] args = {"--server", s.address(), "--instances", "4", "--connections", "1", "--services", "1",
          "--hold-seconds", "1", "--subscribers", "3", "--changes", "20", "--change-interval-ms", "1"};
      assertThat(run(args).exitCode()).isZero();
      // the first run's 20 changes are still registered (TTL 60 s) and in every subscriber's snapshot
      long t0 = System.nanoTime();
      Run second = run(args);
      double runMs = (System.nanoTime() - t0) / 1e6;

      assertThat(second.exitCode()).as(second.report()).isZero();
      assertThat(second.report()).contains("Push to 3 subscribers, 20 changes (all delivered)");
      java.util.regex.Matcher max = java.util.regex.Pattern.compile("per delivery: .* max ([0-9.,]+) ms")
          .matcher(second.report());
      assertThat(max.find()).as(second.report()).isTrue();
      // no delivery can take longer than the run that timed it: an earlier run's change taken for
      // this run's would be timed from before the run began (from the clock's origin)
      assertThat(Double.parseDouble(max.group(1).replace(",", ""))).as(second.report()).isLessThanOrEqualTo(runMs);
    }
  }

  @Test
  void subscriberStreamsARunningServerRefusesAreReportedWithItsReason() throws Exception {
    try (ServerUnderTest s = ServerUnderTest.start("256m", 1, 4)) {
      // 2 registration streams take 2 of the 4; 3 of the 5 subscribers are refused
      Run r = run("--server", s.address(), "--instances", "4", "--connections", "2", "--services", "1",
          "--hold-seconds", "1", "--subscribers", "5", "--changes", "1");

      assertThat(r.report()).contains("Push: 3 of 5 subscriber streams were refused")
          .contains("RESOURCE_EXHAUSTED").contains("--max-streams-per-address")
          .doesNotContain("within 60 s");
    }
  }

  @Test
  void aRegistrationStreamARunningServerRefusesEndsTheRunWithItsReason() throws Exception {
    try (ServerUnderTest s = ServerUnderTest.start("256m", 1, 2)) {
      Run r = run("--server", s.address(), "--instances", "6", "--connections", "3", "--services", "1",
          "--hold-seconds", "1", "--subscribers", "1", "--changes", "1");

      assertThat(r.exitCode()).isNotZero();
      assertThat(r.report()).contains("Registration: 1 of 3 streams were refused")
          .contains("RESOURCE_EXHAUSTED").contains("--max-streams-per-address");
    }
  }
}
