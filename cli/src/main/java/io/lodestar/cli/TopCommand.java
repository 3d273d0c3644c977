package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "top",
    sortOptions = false,
    description = {
        "A live view of a namespace's call graph: the busiest edges (calls per second) and the most failing"
            + " ones (error rate), with latency percentiles, from the call statistics every SDK reports"
            + " (docs/observability.md). Redraws every --interval seconds until Ctrl-C.",
        "--once prints one view and exits; --json prints the server's topology JSON once (for scripts).",
    })
final class TopCommand extends Verb {
  @Parameters(index = "0", arity = "0..1", paramLabel = "NAMESPACE",
      description = "Namespace (default: --namespace, else default).")
  String ns;

  @Option(names = {"-w", "--window"}, paramLabel = "WINDOW", defaultValue = "1m",
      description = "How far back each view looks: 30s, 5m, 1h (default: ${DEFAULT-VALUE}).")
  String window;

  @Option(names = {"-i", "--interval"}, paramLabel = "SECONDS", defaultValue = "2",
      description = "Seconds between redraws (default: ${DEFAULT-VALUE}).")
  int intervalSeconds;

  @Option(names = {"-l", "--limit"}, paramLabel = "N", defaultValue = "10",
      description = "Edges per list (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--once", description = "Print one view and exit.")
  boolean once;

  @Override
  public Integer call() throws Exception {
    if (intervalSeconds < 1 || intervalSeconds > 3600) {
      throw usage("--interval must be within 1–3600 seconds");
    }
    if (limit < 1) {
      throw usage("--limit must be at least 1");
    }
    String namespace = ns == null ? namespace() : ns;
    String path = LodestarApi.path("v1", "namespaces", namespace, "topology");
    while (true) {
      JsonNode t = api().get(path, Map.of("window", window)).json();
      if (json()) {
        printJson(t);
        return 0;
      }
      if (!once) {
        out().print("\033[H\033[2J");  // home and clear: a redraw, as top(1) does
      }
      render(namespace, t);
      if (once) {
        return 0;
      }
      Thread.sleep(intervalSeconds * 1000L);
    }
  }

  private void render(String namespace, JsonNode t) {
    List<JsonNode> edges = new ArrayList<>();
    t.path("edges").forEach(edges::add);
    long services = t.path("nodes").size();
    out().println("lodestar top — namespace " + namespace + ", last " + t.path("window").asText() + ": "
        + Table.plural(services, "service") + ", " + Table.plural(edges.size(), "edge")
        + (t.path("partial").asBoolean() ? "; PARTIAL: no answer from " + t.path("unreachable") : "")
        + (t.path("droppedEdges").asLong() > 0 ? "; " + t.path("droppedEdges").asLong() + " edges dropped (cap)" : ""));
    if (edges.isEmpty()) {
      out().println();
      out().println("no calls reported in the window (SDKs send their statistics every 10 s)");
      out().flush();
      return;
    }
    out().println();
    out().println("BUSIEST");
    edges.sort(Comparator.comparingDouble((JsonNode e) -> -e.path("rps").asDouble()).thenComparing(TopCommand::name));
    table(edges);
    List<JsonNode> failing = new ArrayList<>(edges.stream().filter(e -> e.path("errors").asLong() > 0).toList());
    out().println();
    out().println("MOST FAILING");
    if (failing.isEmpty()) {
      out().println("no failed calls");
      out().flush();
      return;
    }
    failing.sort(Comparator.comparingDouble((JsonNode e) -> -e.path("errorRate").asDouble())
        .thenComparingDouble(e -> -e.path("rps").asDouble()).thenComparing(TopCommand::name));
    table(failing);
  }

  private void table(List<JsonNode> edges) {
    Table tb = new Table("CALLER", "SERVICE", "RPS", "ERRORS", "P50 MS", "P99 MS", "P999 MS", "FAILURES");
    for (JsonNode e : edges.subList(0, Math.min(limit, edges.size()))) {
      JsonNode l = e.path("latencyMs");
      tb.row(e.path("caller").asText().isEmpty() ? "(unnamed)" : e.path("caller").asText(), callee(e),
          String.format(java.util.Locale.ROOT, "%.2f", e.path("rps").asDouble()), String.format(java.util.Locale.ROOT, "%.1f%%", 100 * e.path("errorRate").asDouble()),
          ms(l.path("p50")), ms(l.path("p99")), ms(l.path("p999")), Table.metadata(e.path("errorsByKind")));
    }
    tb.print(out());
  }

  private static String name(JsonNode e) {
    return e.path("caller").asText() + ">" + callee(e);
  }

  private static String callee(JsonNode e) {
    String svc = e.path("service").asText();
    return e.path("namespace").asText().equals(e.path("callerNamespace").asText()) ? svc
        : e.path("namespace").asText() + "/" + svc;
  }

  private static String ms(JsonNode v) {
    return v.isNumber() ? String.format(java.util.Locale.ROOT, "%.1f", v.asDouble()) : "-";
  }
}
