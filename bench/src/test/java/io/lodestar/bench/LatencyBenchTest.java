package io.lodestar.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench latency} against a real server it starts, and its refusals of bad options. */
class LatencyBenchTest {
  @BeforeAll
  static void home() {
    System.setProperty("lodestar.home", Path.of("..").toAbsolutePath().normalize().toString());
  }

  private static int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
    LatencyBench bench = new LatencyBench();
    bench.report = new PrintStream(out, true, UTF_8);
    CommandLine cl = new CommandLine(bench);
    cl.setErr(new java.io.PrintWriter(err, true, UTF_8));
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true, UTF_8));
    try {
      return cl.execute(args);
    } finally {
      System.setErr(stderr);
    }
  }

  @Test
  void everyOperationIsTimedAtEveryPauseWithTheServersCpu() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = run(out, new ByteArrayOutputStream(), "--requests", "5", "--warmup", "5", "--pauses-ms", "0,2");
    String report = out.toString(UTF_8);

    assertThat(code).as(report).isZero();
    for (String pause : new String[] {"   0 ms", "   2 ms"}) {
      for (String op : new String[] {"TCP echo", "SDK fetch", "SDK register", "push (1 watcher)"}) {
        // p50, p90, p99, then the server's CPU (a number: this tool started it) and its own
        assertThat(report).containsPattern("(?m)^" + java.util.regex.Pattern.quote(pause + "  " + op)
            + " +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$");
      }
    }
  }

  @Test
  void aServerPidWithoutTheServerOrForNoProcessIsRefused() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(run(new ByteArrayOutputStream(), err, "--server-pid", "1")).isEqualTo(2);
    assertThat(err.toString(UTF_8)).contains("--server-pid needs --server");

    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    assertThat(run(new ByteArrayOutputStream(), err2, "--requests", "0")).isEqualTo(2);
    assertThat(err2.toString(UTF_8)).contains("--requests must be at least 1");
  }
}
