package io.lodestar.server;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Parses {@code lodestar server}'s options without picocli when every argument is a plain
 * {@code --name value}, {@code --name=value} or a bare flag: picocli's ~170 classes are Java 5 class
 * files, which the launcher's class-data archive cannot hold, so each start parsed and verified them
 * again (~0.3 s of CPU; docs/benchmarks.md, "Performance levers"). Anything else (help, version,
 * an unknown or repeated option, a value picocli would refuse or read otherwise) is left to picocli,
 * which then parses the whole command line as before: the same options, values and messages.
 * {@code PlainOptionsTest} checks that these names are {@link Main}'s and that both parse alike.
 */
final class PlainOptions {
  /** Options with a value: picocli converts {@code int}, {@code long}, {@code double} with {@code X.valueOf}. */
  static final Map<String, BiConsumer<Main, String>> VALUED = Map.ofEntries(
      Map.entry("--port", (m, v) -> m.port = Integer.valueOf(v)),
      Map.entry("--bind", (m, v) -> m.bind = v),
      Map.entry("--consul-port", (m, v) -> m.consulPort = Integer.valueOf(v)),
      Map.entry("--data-dir", (m, v) -> m.dataDir = Path.of(v)),
      Map.entry("--snapshot-every", (m, v) -> m.snapshotEvery = Integer.valueOf(v)),
      Map.entry("--write-queue", (m, v) -> m.writeQueue = Integer.valueOf(v)),
      Map.entry("--node-id", (m, v) -> m.nodeId = v),
      Map.entry("--cluster", (m, v) -> m.cluster = v),
      Map.entry("--raft-port", (m, v) -> m.raftPort = Integer.valueOf(v)),
      Map.entry("--expiry-protection", (m, v) -> m.expiryProtection = Double.valueOf(v)),
      Map.entry("--raft-segment-bytes", (m, v) -> m.raftSegmentBytes = Long.valueOf(v)),
      Map.entry("--cluster-secret-file", (m, v) -> m.clusterSecretFile = Path.of(v)),
      Map.entry("--tls-cert", (m, v) -> m.tlsCert = Path.of(v)),
      Map.entry("--tls-key", (m, v) -> m.tlsKey = Path.of(v)),
      Map.entry("--tls-client-ca", (m, v) -> m.tlsClientCa = Path.of(v)),
      Map.entry("--max-instances-per-service", (m, v) -> m.maxInstancesPerService = Integer.valueOf(v)),
      Map.entry("--max-services-per-namespace", (m, v) -> m.maxServicesPerNamespace = Integer.valueOf(v)),
      Map.entry("--max-streams-per-address", (m, v) -> m.maxStreamsPerAddress = Integer.valueOf(v)),
      Map.entry("--hold-feature-level", (m, v) -> m.holdFeatureLevel = Integer.valueOf(v)),
      Map.entry("--config", (m, v) -> m.configFile = Path.of(v)));

  /** Flags without a value (picocli's booleans of arity 0 are set to true when given). */
  static final Map<String, java.util.function.Consumer<Main>> FLAGS = Map.of(
      "--join", m -> m.join = true,
      "--auth", m -> m.auth = true,
      "--insecure", m -> m.insecure = true,
      "--tls-self-signed", m -> m.tlsSelfSigned = true,
      "--wal-truncate-damaged", m -> m.walTruncateDamaged = true,
      "--sync-ephemeral", m -> m.syncEphemeral = true);

  private PlainOptions() {}

  /**
   * Sets {@code main}'s options from {@code args} and returns the names given, or returns null
   * (with {@code main} possibly half set: the caller gives picocli a fresh one) when picocli must parse.
   */
  static Set<String> parse(String[] args, Main main) {
    Set<String> given = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg : arg.substring(0, eq);
      if (!given.add(name)) {
        return null;  // picocli refuses a repeated option
      }
      java.util.function.Consumer<Main> flag = FLAGS.get(name);
      if (flag != null && eq < 0) {
        flag.accept(main);
        continue;
      }
      BiConsumer<Main, String> valued = VALUED.get(name);
      if (valued == null) {
        return null;  // help, version, an unknown option, a flag with "=", a positional argument
      }
      String value;
      if (eq >= 0) {
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        return null;
      }
      // picocli reads "-..." as an option (or a negative number), "@file" as an argument file, and
      // may trim quotes (picocli.trimQuotes)
      if (value.isEmpty() || value.startsWith("-") || value.startsWith("@") || value.startsWith("\"")) {
        return null;
      }
      try {
        valued.accept(main, value);
      } catch (RuntimeException e) {
        return null;  // picocli names the option and the value it cannot convert
      }
    }
    return given;
  }
}
