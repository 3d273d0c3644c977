package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "services", description = "List the services of a namespace, with instance counts.")
final class ServicesCommand extends Verb {
  @Override
  public Integer call() throws Exception {
    LodestarApi.Response res = api().get(LodestarApi.path("v1", "namespaces", namespace(), "services"), Map.of());
    if (json()) {
      printJson(res.json());
      return 0;
    }
    JsonNode list = res.json().path("services");
    if (list.isEmpty()) {
      out().println("no services in namespace " + namespace());
      out().flush();
      return 0;
    }
    Table t = new Table("SERVICE", "INSTANCES", "HEALTHY", "REVISION", "METADATA");
    for (JsonNode s : list) {
      t.row(s.path("name").asText(), s.path("instances").asText(), s.path("healthy").asText(),
          s.path("revision").asText(), Table.metadata(s.path("metadata")));
    }
    t.print(out());
    return 0;
  }
}
