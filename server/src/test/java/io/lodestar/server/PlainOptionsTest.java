package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@link PlainOptions} against picocli's own model and parse of {@link Main}; no processes. */
class PlainOptionsTest {
  @TempDir Path dir;

  @Test
  void everyOptionOfMainIsParsedPlainlyOrLeftToPicocli() {
    Set<String> flags = new HashSet<>();
    Set<String> valued = new HashSet<>();
    for (CommandLine.Model.OptionSpec o : new CommandLine(new Main()).getCommandSpec().options()) {
      boolean flag = o.arity().max() == 0;
      (flag ? flags : valued).add(o.longestName());
    }
    // picocli's own (--help, --version) and the one with an optional value stay with picocli
    flags.removeAll(List.of("--help", "--version"));
    valued.remove("--metrics-open");
    assertThat(PlainOptions.FLAGS.keySet()).containsExactlyInAnyOrderElementsOf(flags);
    assertThat(PlainOptions.VALUED.keySet()).containsExactlyInAnyOrderElementsOf(valued);
  }

  @Test
  void plainArgumentsGiveWhatPicocliGives() throws Exception {
    List<List<String>> cases = List.of(
        List.of(),
        List.of("--port", "18700", "--data-dir", "/tmp/x y", "--bind=0.0.0.0", "--insecure"),
        List.of("--node-id", "n2", "--cluster", "n1=h:1,n2=h:2/9", "--raft-port=9", "--join", "--auth"),
        List.of("--expiry-protection", "0.25", "--raft-segment-bytes", "1048576", "--snapshot-every", "7",
            "--write-queue", "64", "--consul-port=8500", "--sync-ephemeral", "--wal-truncate-damaged",
            "--hold-feature-level", "0"),
        List.of("--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem", "--tls-self-signed",
            "--cluster-secret-file", "s", "--max-instances-per-service", "5", "--max-services-per-namespace", "6",
            "--max-streams-per-address", "7", "--config", "node.properties"),
        List.of("--port", "+0100"));
    for (List<String> args : cases) {
      Main plain = new Main();
      Set<String> given = PlainOptions.parse(args.toArray(String[]::new), plain);
      Main picocli = new Main();
      CommandLine.ParseResult parsed = new CommandLine(picocli).parseArgs(args.toArray(String[]::new));
      assertThat(given).as("%s", args).isNotNull();
      assertThat(options(plain)).as("%s", args).isEqualTo(options(picocli));
      Set<String> matched = new HashSet<>();
      parsed.matchedOptions().forEach(o -> matched.add(o.longestName()));
      assertThat(given).as("%s", args).isEqualTo(matched);
    }
  }

  @Test
  void anythingElseIsLeftToPicocli() {
    List<List<String>> cases = List.of(List.of("--help"), List.of("-h"), List.of("--version"), List.of("-V"),
        List.of("--metrics-open"), List.of("--metrics-open", "false"), List.of("--port", "1", "--port", "2"),
        List.of("--port"), List.of("--port", "x"), List.of("--port="), List.of("--bogus"), List.of("positional"),
        List.of("--auth=true"), List.of("--port", "-1"), List.of("--data-dir", "--port"), List.of("@args.txt"),
        List.of("--bind", "@args.txt"), List.of("--bind", "\"h\""), List.of("--data-dir", "a\0b"));
    for (List<String> args : cases) {
      assertThat(PlainOptions.parse(args.toArray(String[]::new), new Main())).as("%s", args).isNull();
    }
  }

  @Test
  void theConfigFileYieldsToPlainlyParsedOptions() throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "node-id=n1\ncluster=n1=127.0.0.1:8700,n2=127.0.0.1:8710\nraft-port=8705\nport=8700\n");
    Main m = new Main();
    String[] args = {"--config", file.toString(), "--node-id", "n2", "--port", "8710"};
    java.lang.reflect.Field given = Main.class.getDeclaredField("plainGiven");
    given.setAccessible(true);
    given.set(m, PlainOptions.parse(args, m));
    m.applyConfigFile();
    assertThat(m.nodeId).isEqualTo("n2");
    assertThat(m.port).isEqualTo(8710);
    assertThat(m.raftPort).isEqualTo(8705);
    assertThat(m.cluster).isEqualTo("n1=127.0.0.1:8700,n2=127.0.0.1:8710");
  }

  /** Every picocli option field of a Main, by name. */
  private static Map<String, Object> options(Main m) throws IllegalAccessException {
    Map<String, Object> values = new LinkedHashMap<>();
    for (Field f : Main.class.getDeclaredFields()) {
      if (f.isAnnotationPresent(CommandLine.Option.class)) {
        f.setAccessible(true);
        values.put(f.getName(), f.get(m));
      }
    }
    return values;
  }
}
