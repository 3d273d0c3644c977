package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "audit", description = "Show the audit trail (admin): who wrote what, when and from where.")
final class AuditCommand extends Verb {
  @Option(names = "--since", paramLabel = "TIME", description = "Only entries at or after this instant (ISO-8601, e.g. 2026-11-30T18:00:00Z, or epoch ms).")
  String since;

  @Option(names = "--all-namespaces", description = "Entries of every namespace and cluster-wide ones (default: only --namespace's).")
  boolean all;

  @Override
  public Integer call() throws Exception {
    Map<String, String> q = new LinkedHashMap<>();
    if (since != null) {
      q.put("since", since);
    }
    if (!all) {
      q.put("ns", namespace());
    }
    LodestarApi.Response res = api().get(LodestarApi.path("v1", "audit"), q);
    if (json()) {
      printJson(res.json());
      return 0;
    }
    Table t = new Table("TIME", "ACTOR", "SOURCE", "ACTION", "NAMESPACE", "TARGET");
    for (JsonNode e : res.json().path("entries")) {
      t.row(e.path("time").asText(), e.path("actor").asText(), e.path("source").asText(), e.path("action").asText(),
          e.path("namespace").asText(), e.path("target").asText());
    }
    t.print(out());
    return 0;
  }
}
