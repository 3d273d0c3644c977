package io.lodestar.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lodestar bench ...} and {@code lodestar demo ...}: load tools and demonstrations. */
@Command(name = "lodestar", mixinStandardHelpOptions = true, subcommands = {Main.Bench.class, Main.Demo.class})
public final class Main {
  @Command(name = "bench", mixinStandardHelpOptions = true, description = "Load tools against a real server.",
      subcommands = {NamingBench.class})
  static final class Bench {}

  @Command(name = "demo", mixinStandardHelpOptions = true, description = "Self-contained demonstrations.",
      subcommands = {GovernanceDemo.class})
  static final class Demo {}

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
