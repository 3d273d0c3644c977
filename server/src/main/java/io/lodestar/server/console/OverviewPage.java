package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.core.naming.StoredInstance;
import io.lodestar.server.http.Routes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ui/}: namespaces, services and instance health from the registry's views; rates and
 * connected SDK clients from the server's own meters; members, leader and term from
 * {@code GET /v1/cluster} (the same code the CLI's {@code cluster status} reads).
 */
final class OverviewPage implements Routes.Owner {
  private static final int TOP = 10;
  private final Registry registry;
  private final MeterRates rates;
  private final LoopbackApi api;

  OverviewPage(Registry registry, MeterRates rates, LoopbackApi api) {
    this.registry = registry;
    this.rates = rates;
    this.api = api;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/", "page", c -> page());
    routes.get("/ui/fragments/overview", "fragment", c -> fragment());
  }

  public CompletableFuture<HttpResponse> page() {
    return stats().thenApply(s -> Html.page("Overview", "/ui/", """
        <section id="overview" hx-get="/ui/fragments/overview" hx-trigger="sse:naming, sse:config, every 2s" hx-swap="innerHTML">%s</section>
        """.formatted(s)));
  }

  public CompletableFuture<HttpResponse> fragment() {
    return stats().thenApply(Html::ok);
  }

  private CompletableFuture<String> stats() {
    long healthy = 0;
    long unhealthy = 0;
    long isolated = 0;
    long operatorWeights = 0;  // a drain left in force is easy to forget: the overview counts them
    int services = 0;
    // the services to look at first: most unhealthy, then largest (a bounded heap, one pass)
    Comparator<long[]> order = Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]);
    PriorityQueue<long[]> top = new PriorityQueue<>(TOP + 1, order);
    List<ServiceView> views = registry.allViews();
    for (int idx = 0; idx < views.size(); idx++) {
      ServiceView v = views.get(idx);
      services++;
      long bad = 0;
      for (StoredInstance i : v.stored()) { // every service: compact, nothing rendered
        if (i.weightSetByOperator()) {
          operatorWeights++;
        }
        if (i.isolated()) {
          isolated++;
        } else if (i.health() == HealthStatus.UNHEALTHY) {
          unhealthy++;
          bad++;
        } else {
          healthy++;
        }
      }
      top.add(new long[] {bad, v.instances().size(), idx});
      if (top.size() > TOP) {
        top.poll();
      }
    }
    List<long[]> first = new ArrayList<>(top);
    first.sort(order.reversed());
    StringBuilder rows = new StringBuilder();
    for (long[] t : first) {
      ServiceView v = views.get((int) t[2]);
      String ns = v.key().namespace();
      String svc = v.key().service();
      rows.append("<tr data-service=\"").append(h(ns + "/" + svc)).append("\"><th scope=\"row\"><a href=\"/ui/services/")
          .append(Html.u(ns)).append('/').append(Html.u(svc)).append("\">").append(h(ns)).append(" / ").append(h(svc))
          .append("</a></th><td class=\"num\">").append(t[1]).append("</td><td class=\"num").append(t[0] > 0 ? " bad" : "")
          .append("\">").append(t[0]).append("</td></tr>");
    }
    String table = """
        <h2>Services <small>the %d with the most unhealthy instances, then the largest · <a href="/ui/services">all</a></small></h2>
        <div class="table-wrap"><table><caption>Services to look at first</caption>
        <thead><tr><th scope="col">Service</th><th scope="col" class="num">Instances</th><th scope="col" class="num">Unhealthy</th></tr></thead>
        <tbody>%s</tbody></table></div>
        """.formatted(TOP, rows.length() == 0 ? "<tr><td colspan=\"3\">No services registered yet.</td></tr>" : rows);
    String naming = """
        <div class="cards">
        <div class="card"><span class="label">Namespaces</span><span class="value" data-stat="namespaces">%d</span></div>
        <div class="card"><span class="label">Services</span><span class="value" data-stat="services">%d</span></div>
        <div class="card"><span class="label">Healthy instances</span><span class="value ok" data-stat="healthy">%d</span></div>
        <div class="card"><span class="label">Unhealthy instances</span><span class="value %s" data-stat="unhealthy">%d</span></div>
        <div class="card"><span class="label">Isolated instances</span><span class="value" data-stat="isolated">%d</span></div>
        <div class="card"><span class="label">Weights set by an operator</span><span class="value" data-stat="operator-weights">%d</span></div>
        <div class="card"><span class="label">Connected SDK clients</span><span class="value" data-stat="clients">%d</span></div>
        </div>
        <h2>Activity <small>per second, last %d s</small></h2>
        <div class="cards">
        <div class="card"><span class="label">Registrations</span><span class="value" data-stat="registrations">%s</span></div>
        <div class="card"><span class="label">Pushes</span><span class="value" data-stat="pushes">%s</span></div>
        <div class="card"><span class="label">Config publishes</span><span class="value" data-stat="publishes">%s</span></div>
        </div>
        """.formatted(registry.namespaces().size(), services, healthy, unhealthy > 0 ? "bad" : "", unhealthy, isolated,
        operatorWeights, (long) rates.gauge(MeterRates.CLIENTS), MeterRates.WINDOW_SECONDS,
        rate(MeterRates.REGISTRATIONS), rate(MeterRates.PUSHES), rate(MeterRates.CONFIG_PUBLISHES));
    return api.json(HttpMethod.GET, "/v1/cluster", null).thenApply(c -> naming + cluster(c) + table);
  }

  private String rate(String counter) {
    return String.format(Locale.ROOT, "%.1f", rates.perSecond(counter));
  }

  static String cluster(ApiResult c) {
    if (!c.ok()) {
      return "<h2>Cluster</h2>" + Html.error(c);
    }
    JsonNode b = c.body();
    return """
        <h2>Cluster</h2>
        <div class="cards">
        <div class="card"><span class="label">Members</span><span class="value" data-stat="members">%d</span></div>
        <div class="card"><span class="label">Leader</span><span class="value small" data-stat="leader">%s</span></div>
        <div class="card"><span class="label">Term</span><span class="value" data-stat="term">%d</span></div>
        </div>
        """.formatted(b.path("members").size(), h(b.path("leader").asText("—")), b.path("term").asLong());
  }
}
