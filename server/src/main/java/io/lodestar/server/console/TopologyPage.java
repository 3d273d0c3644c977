package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;
import static io.lodestar.server.console.Html.u;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.lodestar.core.Validation;
import io.lodestar.server.http.Routes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ui/topology}: a namespace's live call graph (docs/console.md). The graph is drawn by
 * ECharts (from its webjar) in {@code assets/topology.js} from {@code /ui/topology/data}, which is
 * the REST topology as the loopback API answers it (so auth applies as to any API read); edges are
 * coloured by error rate. Below it, the edges as a table that reloads every 5 s; choosing an edge
 * (in the graph or the table) loads its latency over time into {@code #edge-detail}.
 */
final class TopologyPage implements Routes.Owner {
  static final String ECHARTS = "/ui/webjars/echarts/5.3.1/dist/echarts.min.js";
  private final LoopbackApi api;

  TopologyPage(LoopbackApi api) {
    this.api = api;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/topology", "page", c -> page(c.optional("ns"), c.optional("window")));
    routes.get("/ui/topology/data", "data", c -> data(c.required("ns"), c.optional("window")));
    routes.get("/ui/fragments/topology", "edges", c -> edges(c.required("ns"), c.optional("window")));
    routes.get("/ui/fragments/topology/edge", "edge",
        c -> edge(c.required("ns"), c.required("caller"), c.required("service"), c.optional("window")));
  }

  public HttpResponse page(Optional<String> nsParam, Optional<String> windowParam) {
    String ns = Validation.name("namespace", nsParam.orElse("default"));
    String window = window(windowParam);
    String data = "/ui/topology/data?ns=" + u(ns) + "&window=" + u(window);
    String edges = "/ui/fragments/topology?ns=" + u(ns) + "&window=" + u(window);
    return Html.page("Topology", "/ui/topology", """
        <form class="filters" method="get" action="/ui/topology">
        <label for="ns">Namespace</label><input id="ns" name="ns" value="%s">
        <label for="window">Window</label><select id="window" name="window">%s</select>
        <button type="submit">Show</button>
        </form>
        <p class="crumbs">Calls reported by every SDK, merged over the cluster; edges green under 1 %% errors,
        amber under 5 %%, red above. Choose an edge for its latency over time.</p>
        <div id="topology-graph" data-src="%s" role="img" aria-label="Call graph of namespace %s"
             style="height:460px;background:var(--card);border:1px solid var(--line);border-radius:8px"></div>
        <section id="edge-detail" aria-live="polite"></section>
        <section id="edges" hx-get="%s" hx-trigger="load, every 5s" hx-swap="innerHTML"></section>
        <script src="%s"></script>
        <script src="/ui/assets/topology.js"></script>
        """.formatted(h(ns), windowOptions(window), h(data), h(ns), h(edges), ECHARTS));
  }

  /** The REST topology, for the graph script. */
  public CompletableFuture<HttpResponse> data(String ns, Optional<String> windowParam) {
    String window = window(windowParam);
    return api.json(HttpMethod.GET, "/v1/namespaces/" + u(ns) + "/topology?window=" + u(window), null)
        .thenApply(r -> HttpResponse.of(HttpStatus.valueOf(r.status()), MediaType.JSON_UTF_8, r.body().toString()));
  }

  public CompletableFuture<HttpResponse> edges(String ns, Optional<String> windowParam) {
    String window = window(windowParam);
    return api.json(HttpMethod.GET, "/v1/namespaces/" + u(ns) + "/topology?window=" + u(window), null).thenApply(r -> {
      if (!r.ok()) {
        return Html.ok(Html.error(r));
      }
      List<JsonNode> list = new ArrayList<>();
      r.body().path("edges").forEach(list::add);
      if (list.isEmpty()) {
        return Html.ok("<p>No calls reported in the last " + h(window) + ". SDKs send their statistics every 10 s.</p>");
      }
      list.sort(Comparator.comparingDouble((JsonNode e) -> -e.path("rps").asDouble()));
      StringBuilder rows = new StringBuilder();
      for (JsonNode e : list) {
        String caller = e.path("caller").asText();
        String callee = e.path("service").asText();
        String detail = "/ui/fragments/topology/edge?ns=" + u(e.path("callerNamespace").asText()) + "&caller="
            + u(caller) + "&service=" + u(callee) + "&window=" + u(window);
        double rate = e.path("errorRate").asDouble();
        JsonNode l = e.path("latencyMs");
        rows.append("<tr data-edge=\"").append(h(caller + ">" + callee)).append("\"><td>")
            .append(h(caller.isEmpty() ? "(unnamed)" : caller)).append("</td><td>").append(h(callee))
            .append("</td><td class=\"num\">").append(fmt("%.2f", e.path("rps").asDouble()))
            .append("</td><td class=\"num\"><span class=\"badge ").append(rate >= 0.05 ? "bad" : rate >= 0.01 ? "warn" : "ok")
            .append("\">").append(fmt("%.1f %%", 100 * rate)).append("</span></td><td class=\"num\">")
            .append(ms(l.path("p50"))).append("</td><td class=\"num\">").append(ms(l.path("p99")))
            .append("</td><td class=\"num\">").append(ms(l.path("p999")))
            .append("</td><td><button type=\"button\" hx-get=\"").append(h(detail))
            .append("\" hx-target=\"#edge-detail\">Latency</button></td></tr>");
      }
      return Html.ok("""
          <div class="table-wrap"><table><caption>Edges, busiest first (last %s)</caption>
          <thead><tr><th scope="col">Caller</th><th scope="col">Service</th><th scope="col" class="num">Calls/s</th>
          <th scope="col" class="num">Errors</th><th scope="col" class="num">p50 ms</th><th scope="col" class="num">p99 ms</th>
          <th scope="col" class="num">p99.9 ms</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>%s</tbody></table></div>
          """.formatted(h(window), rows));
    });
  }

  /** One edge's latency over time: a chart (drawn by topology.js from data-series) and its table. */
  public CompletableFuture<HttpResponse> edge(String ns, String caller, String service,
      Optional<String> windowParam) {
    String window = window(windowParam);
    String path = "/v1/namespaces/" + u(ns) + "/services/" + u(caller.isEmpty() ? "-" : caller) + "/calls?window=" + u(window);
    return api.json(HttpMethod.GET, path, null).thenApply(r -> {
      if (!r.ok()) {
        return Html.ok(Html.error(r));
      }
      JsonNode callee = null;
      for (JsonNode c : r.body().path("callees")) {
        if (c.path("service").asText().equals(service)) {
          callee = c;
        }
      }
      String title = "Latency of " + (caller.isEmpty() ? "(unnamed)" : caller) + " → " + service;
      if (callee == null) {
        return Html.ok("<h2>" + h(title) + "</h2><p>No calls in the last " + h(window) + ".</p>");
      }
      StringBuilder rows = new StringBuilder();
      for (JsonNode p : callee.path("series")) {
        JsonNode l = p.path("latencyMs");
        rows.append("<tr><td>").append(Html.time(p.path("startMs").asLong())).append("</td><td class=\"num\">")
            .append(p.path("calls").asLong()).append("</td><td class=\"num\">").append(p.path("errors").asLong())
            .append("</td><td class=\"num\">").append(ms(l.path("p50"))).append("</td><td class=\"num\">")
            .append(ms(l.path("p99"))).append("</td><td class=\"num\">").append(ms(l.path("p999"))).append("</td></tr>");
      }
      return Html.ok("""
          <h2 id="edge-title">%s <small>last %s</small></h2>
          <div id="latency-chart" data-series="%s" role="img" aria-label="%s over time"
               style="height:260px;background:var(--card);border:1px solid var(--line);border-radius:8px"></div>
          <div class="table-wrap"><table><caption>Per 10 s</caption>
          <thead><tr><th scope="col">From</th><th scope="col" class="num">Calls</th><th scope="col" class="num">Errors</th>
          <th scope="col" class="num">p50 ms</th><th scope="col" class="num">p99 ms</th><th scope="col" class="num">p99.9 ms</th></tr></thead>
          <tbody>%s</tbody></table></div>
          """.formatted(h(title), h(window), h(callee.path("series").toString()), h(title), rows));
    });
  }

  private static final List<String> WINDOWS = List.of("1m", "5m", "15m", "1h");

  private static String window(Optional<String> w) {
    String v = w.orElse("5m");
    return WINDOWS.contains(v) ? v : "5m";
  }

  private static String windowOptions(String selected) {
    StringBuilder b = new StringBuilder();
    for (String w : WINDOWS) {
      b.append("<option").append(w.equals(selected) ? " selected" : "").append('>').append(w).append("</option>");
    }
    return b.toString();
  }

  private static String ms(JsonNode v) {
    return v.isNumber() ? fmt("%.1f", v.asDouble()) : "—";
  }

  private static String fmt(String f, double v) {
    return String.format(Locale.ROOT, f, v);
  }
}
