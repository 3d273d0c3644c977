package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Runs the CLI in-process, capturing its streams. */
final class CliRun {
  final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  volatile int code = Integer.MIN_VALUE;

  static CliRun run(Map<String, String> env, String... args) {
    CliRun r = new CliRun();
    r.exec(env, args);
    return r;
  }

  void exec(Map<String, String> env, String... args) {
    exec(env, System.in, args);
  }

  /** Runs with {@code stdin} as standard input. */
  static CliRun withInput(String stdin, Map<String, String> env, String... args) {
    CliRun r = new CliRun();
    r.exec(env, new java.io.ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), args);
    return r;
  }

  void exec(Map<String, String> env, java.io.InputStream in, String... args) {
    PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    code = Main.run(args, out, err, env, in);
  }

  String out() {
    return outBytes.toString(StandardCharsets.UTF_8);
  }

  String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  /** Exit code as expected, and never a stack trace on either stream. */
  CliRun expect(int expected) {
    assertThat(code).as("exit code; stdout:%n%s%nstderr:%n%s", out(), err()).isEqualTo(expected);
    assertNoStackTrace();
    return this;
  }

  void assertNoStackTrace() {
    assertThat(err()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(out()).doesNotContain("\tat ");
  }

  @Override
  public String toString() {
    return "exit " + code + "\n--- stdout\n" + out() + "--- stderr\n" + err();
  }
}
