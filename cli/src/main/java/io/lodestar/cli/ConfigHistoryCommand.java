package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "history", description = "List the kept versions of a config, newest first.")
final class ConfigHistoryCommand extends ConfigVerb {
  @Override
  public Integer call() throws Exception {
    JsonNode res = api().get(configPath("history"), Map.of()).json();
    if (json()) {
      printJson(res);
      return 0;
    }
    Table t = new Table("VERSION", "TIME", "AUTHOR", "SIZE", "HASH", "STATE", "COMMENT");
    for (JsonNode v : res.path("versions")) {
      String hash = v.path("hash").asText();
      t.row(v.path("version").asLong(), v.path("time").asText(), v.path("author").asText(), v.path("size").asLong(),
          hash.length() > 12 ? hash.substring(0, 12) : hash, v.path("state").asText(""), v.path("comment").asText());
    }
    t.print(out());
    return 0;
  }
}
