package io.lodestar.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lodestar bench ...} and {@code lodestar demo ...}: load tools and demonstrations. */
@Command(name = "lodestar", mixinStandardHelpOptions = true, subcommands = {Main.Bench.class, Main.Demo.class})
public final class Main {
  @Command(name = "bench", mixinStandardHelpOptions = true, description = "Load tools against a real server.",
      subcommands = {NamingBench.class, ConfigBench.class, TopologyBench.class, XdsBench.class, SoakBench.class,
          LatencyBench.class,
          io.lodestar.bench.compare.CompareBench.class,
          Main.Jmh.class})
  static final class Bench {}

  @Command(name = "demo", mixinStandardHelpOptions = true, description = "Self-contained demonstrations.",
      subcommands = {GovernanceDemo.class})
  static final class Demo {}

  /** {@code lodestar bench jmh [JMH options]}: the in-process micro-benchmarks; JMH parses the rest. */
  @Command(name = "jmh", description = "JMH micro-benchmarks of the SDK's hot paths; JMH's own options follow.")
  static final class Jmh {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("bench") && args[1].equals("jmh")) {
      org.openjdk.jmh.Main.main(java.util.Arrays.copyOfRange(args, 2, args.length));
      return;
    }
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
