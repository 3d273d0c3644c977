package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rollback", description = "Publish the content of an older VERSION again, as a new version.")
final class ConfigRollbackCommand extends ConfigVerb {
  @Parameters(index = "2", paramLabel = "VERSION", description = "The version to go back to.")
  long toVersion;

  @Option(names = {"-m", "--comment"}, paramLabel = "TEXT", description = "Why.")
  String comment;

  @Override
  public Integer call() throws Exception {
    ObjectNode body = Json.object().put("toVersion", toVersion);
    if (comment != null) {
      body.put("comment", comment);
    }
    JsonNode res = api().post(configPath("rollback") + "?author=" + java.net.URLEncoder.encode(author(),
        java.nio.charset.StandardCharsets.UTF_8), body).json();
    if (json()) {
      printJson(res);
    } else {
      out().println("rolled back " + where() + " to the content of version " + toVersion + " as version "
          + res.path("version").asLong());
    }
    return 0;
  }
}
