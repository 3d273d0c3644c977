package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "list", description = "List the configs of the namespace, optionally of one group.")
final class ConfigListCommand extends Verb {
  @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "Only this group.")
  String group;

  @Override
  public Integer call() throws Exception {
    Map<String, String> q = new LinkedHashMap<>();
    if (group != null) {
      q.put("group", group);
    }
    JsonNode res = api().get(LodestarApi.path("v1", "namespaces", namespace(), "configs"), q).json();
    if (json()) {
      printJson(res);
      return 0;
    }
    Table t = new Table("GROUP", "NAME", "FORMAT", "VERSION", "SIZE", "GRAY", "PREVIEW");
    for (JsonNode c : res.path("configs")) {
      t.row(c.path("group").asText(), c.path("name").asText(), c.path("format").asText(),
          c.path("version").asLong(), c.path("size").asLong(),
          c.path("gray").asBoolean() ? "v" + c.path("candidateVersion").asLong() : "",
          c.path("preview").asText());
    }
    t.print(out());
    return 0;
  }
}
