package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "instances",
    description = {
        "List the instances of a service.",
        "With --healthy, only healthy instances are listed, unless too many are unhealthy: then the server's"
            + " protection returns all of them (each marked with its health), and a line says so.",
    })
final class InstancesCommand extends Verb {
  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name.")
  String service;

  @Option(names = "--healthy", description = "Only healthy instances (as a client doing discovery would see them).")
  boolean healthy;

  @Override
  public Integer call() throws Exception {
    Map<String, String> query = new LinkedHashMap<>();
    if (healthy) {
      query.put("healthy", "true");
    }
    LodestarApi.Response res = api().get(servicePath(service, "instances"), query);
    if (json()) {
      printJson(res.json());
      return 0;
    }
    JsonNode list = res.json().path("instances");
    long revision = res.index(0);
    String where = namespace() + "/" + service;
    if (res.json().path("protectionApplied").asBoolean(false)) {
      out().println("protection applied: too many instances are unhealthy, so all are listed, unhealthy ones included");
    }
    if (list.isEmpty()) {
      out().println("no " + (healthy ? "healthy " : "") + "instances of " + where + " (revision " + revision + ")");
      out().flush();
      return 0;
    }
    Table t = new Table("ID", "ADDRESS", "PROTOCOL", "WEIGHT", "HEALTH", "KIND", "METADATA");
    long healthyCount = 0;
    for (JsonNode i : list) {
      if ("HEALTHY".equalsIgnoreCase(i.path("health").asText())) {
        healthyCount++;
      }
      t.row(i.path("id").asText(), Table.address(i), i.path("protocol").asText(),
          // an operator's weight, in force over the instance's own (lodestar weight)
          i.path("weight").asText() + (i.has("registeredWeight") ? "/operator" : ""),
          // an isolated instance is out of discovery whatever its health (lodestar isolate)
          i.path("health").asText() + (i.path("isolated").asBoolean(false) ? "/isolated" : ""), kind(i),
          Table.metadata(i.path("metadata")));
    }
    t.print(out());
    out().println(Table.plural(list.size(), "instance") + " of " + where + " (" + healthyCount + " healthy), revision " + revision);
    out().flush();
    return 0;
  }

  static String kind(JsonNode i) {
    if (!i.path("ephemeral").asBoolean(true)) {
      JsonNode c = i.path("check");
      if (c.isObject() && c.has("type")) {
        String type = c.path("type").asText();
        return "persistent/" + type + (type.equals("http") && c.hasNonNull("path") ? ":" + c.path("path").asText() : "");
      }
      return "persistent";
    }
    return "ephemeral";
  }
}
