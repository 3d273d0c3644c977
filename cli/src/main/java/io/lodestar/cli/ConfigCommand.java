package io.lodestar.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "config",
    synopsisSubcommandLabel = "COMMAND",
    description = "Configs: read, publish, history, rollback, watch, gray releases. Each config is GROUP NAME in the namespace (-n).",
    subcommands = {
        ConfigGetCommand.class,
        ConfigPutCommand.class,
        ConfigListCommand.class,
        ConfigHistoryCommand.class,
        ConfigRollbackCommand.class,
        ConfigWatchCommand.class,
        ConfigGrayCommand.class,
        ConfigDeleteCommand.class,
    })
final class ConfigCommand implements Runnable {
  @Spec CommandSpec spec;

  @picocli.CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing config command (get, put, list, history, rollback, watch, gray, delete)");
  }
}
