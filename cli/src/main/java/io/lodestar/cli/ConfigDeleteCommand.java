package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

@Command(name = "delete", description = "Delete a config and its history.")
final class ConfigDeleteCommand extends ConfigVerb {
  @Override
  public Integer call() throws Exception {
    JsonNode res = api().delete(configPath()).json();
    if (json()) {
      printJson(res);
    } else {
      out().println("deleted " + where());
    }
    return 0;
  }
}
