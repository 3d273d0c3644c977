package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;
import static io.lodestar.server.console.Html.u;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Routes;
import io.lodestar.server.naming.HealthChecker;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ui/services}: the searchable list, and a service's page with its instances, protection
 * state and the operator's actions (weight, isolate, restore, deregister). Reads come from the
 * registry's immutable views; every action is the REST API's call (see {@link LoopbackApi}).
 */
final class ServicePages implements Routes.Owner {
  private final Registry registry;
  private final HealthChecker health;
  private final LoopbackApi api;

  ServicePages(Registry registry, HealthChecker health, LoopbackApi api) {
    this.registry = registry;
    this.health = health;
    this.api = api;
  }

  // ------------------------------------------------------------------ list

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/services", "list", c -> list(c.param("ns", "default"), c.param("q", "")));
    routes.get("/ui/fragments/services", "serviceRows", c -> serviceRows(c.param("ns", "default"), c.param("q", "")));
    routes.get("/ui/services/{ns}/{svc}", "service", c -> service(c.path("ns"), c.path("svc")));
    routes.get("/ui/fragments/services/{ns}/{svc}", "instancesFragment",
        c -> instancesFragment(c.path("ns"), c.path("svc")));
    routes.post("/ui/services/{ns}/{svc}/instances/{id}/weight", "weight",
        c -> weight(c.path("ns"), c.path("svc"), c.path("id"), c.param("weight", "")));
    routes.post("/ui/services/{ns}/{svc}/instances/{id}/restore-weight", "restoreWeight",
        c -> restoreWeight(c.path("ns"), c.path("svc"), c.path("id")));
    routes.post("/ui/services/{ns}/{svc}/instances/{id}/isolate", "isolate",
        c -> isolate(c.path("ns"), c.path("svc"), c.path("id")));
    routes.post("/ui/services/{ns}/{svc}/instances/{id}/restore", "restore",
        c -> restore(c.path("ns"), c.path("svc"), c.path("id")));
    routes.post("/ui/services/{ns}/{svc}/instances/{id}/deregister", "deregister",
        c -> deregister(c.path("ns"), c.path("svc"), c.path("id")));
  }

  public HttpResponse list(String ns, String q) {
    StringBuilder options = new StringBuilder();
    for (Namespace n : registry.namespaces()) {
      options.append("<option").append(n.getName().equals(ns) ? " selected" : "").append('>')
          .append(h(n.getName())).append("</option>");
    }
    return Html.page("Services", "/ui/services", """
        <form id="service-filter" class="filters" role="search" hx-get="/ui/fragments/services" hx-target="#service-rows"
              hx-trigger="input changed delay:200ms from:#q, search from:#q, change from:#ns, submit" hx-push-url="false">
        <label for="ns">Namespace</label>
        <select id="ns" name="ns">%s</select>
        <label for="q">Search</label>
        <input id="q" name="q" type="search" value="%s" placeholder="service name contains…" autocomplete="off">
        </form>
        <div class="table-wrap"><table>
        <caption>Services and their instances</caption>
        <thead><tr><th scope="col">Service</th><th scope="col" class="num">Instances</th><th scope="col" class="num">Healthy</th>
        <th scope="col" class="num">Unhealthy</th><th scope="col" class="num">Isolated</th><th scope="col">Protection</th></tr></thead>
        <tbody id="service-rows" hx-get="/ui/fragments/services" hx-include="#service-filter" hx-trigger="sse:naming">%s</tbody>
        </table></div>
        """.formatted(options, h(q), rows(ns, q)));
  }

  public HttpResponse serviceRows(String ns, String q) {
    return Html.ok(rows(ns, q));
  }

  private String rows(String ns, String q) {
    if (registry.namespace(ns) == null) {
      return "<tr><td colspan=\"6\">Namespace " + h(ns) + " does not exist.</td></tr>";
    }
    String needle = q.strip().toLowerCase(Locale.ROOT);
    StringBuilder b = new StringBuilder(64 * 1024);
    int shown = 0;
    for (ServiceView v : registry.views(ns)) {
      String name = v.key().service();
      if (!needle.isEmpty() && !name.toLowerCase(Locale.ROOT).contains(needle)) {
        continue;
      }
      shown++;
      // one pass, no copies: this runs for every service of the namespace
      long total = v.instances().size();
      long isolated = 0;
      long unhealthy = 0;
      for (Instance i : v.instances()) {
        if (i.getIsolated()) {
          isolated++;
        } else if (i.getHealth() == HealthStatus.UNHEALTHY) {
          unhealthy++;
        }
      }
      long candidates = total - isolated;
      boolean protect = candidates > 0 && v.protectThreshold() < 1.0
          && (double) unhealthy / candidates > v.protectThreshold();
      b.append("<tr data-service=\"").append(h(name)).append("\"><th scope=\"row\"><a href=\"/ui/services/")
          .append(u(ns)).append('/').append(u(name)).append("\">").append(h(name)).append("</a></th><td class=\"num\">")
          .append(total).append("</td><td class=\"num\">").append(total - unhealthy - isolated)
          .append("</td><td class=\"num").append(unhealthy > 0 ? " bad" : "").append("\">").append(unhealthy)
          .append("</td><td class=\"num\">").append(isolated).append("</td><td>")
          .append(protect ? "<span class=\"badge bad\">applied</span>" : "normal").append("</td></tr>");
    }
    if (shown == 0) {
      b.append("<tr><td colspan=\"6\">").append(needle.isEmpty() ? "No services in this namespace yet."
          : "No service matches “" + h(q) + "”.").append("</td></tr>");
    }
    return b.toString();
  }

  // ------------------------------------------------------------------ one service

  public HttpResponse service(String ns, String svc) {
    String base = "/ui/services/" + u(ns) + "/" + u(svc);
    return Html.page(svc, "/ui/services", """
        <p class="crumbs"><a href="/ui/services?ns=%s">%s</a> / %s · <a href="%s/rules">Governance rules</a></p>
        <div id="instance-result" aria-live="polite"></div>
        <section id="instances" hx-get="/ui/fragments/services/%s/%s" hx-trigger="sse:naming">%s</section>
        """.formatted(u(ns), h(ns), h(svc), base, u(ns), u(svc), instances(ns, svc)));
  }

  public HttpResponse instancesFragment(String ns, String svc) {
    return Html.ok(instances(ns, svc));
  }

  private String instances(String ns, String svc) {
    ServiceView v = registry.view(ns, svc);
    if (v == null) {
      return "<p>Service " + h(ns) + "/" + h(svc) + " has no instances and no rules.</p>";
    }
    ServiceView.Selection sel = v.healthy();
    long candidates = v.instances().size() - v.isolatedCount();
    long unhealthy = v.instances().stream().filter(i -> !i.getIsolated() && i.getHealth() == HealthStatus.UNHEALTHY)
        .count();
    String protection = String.format(Locale.ROOT,
        "Protection threshold %.0f%%: %d of %d instances in discovery are unhealthy (%.0f%%). ", v.protectThreshold() * 100,
        unhealthy, candidates, candidates == 0 ? 0.0 : 100.0 * unhealthy / candidates)
        + (sel.protectionApplied() ? "<strong class=\"bad\" data-protection=\"applied\">Protection applied:</strong> callers "
            + "get every instance, marked, so a blip does not empty their lists."
            : "<span data-protection=\"normal\">Callers get the healthy ones.</span>");
    String base = "/ui/services/" + u(ns) + "/" + u(svc) + "/instances/";
    StringBuilder rows = new StringBuilder();
    for (Instance i : v.instances()) {
      String id = i.getId();
      String act = base + u(id);
      String fid = "w-" + h(id);
      StringBuilder md = new StringBuilder();
      new TreeMap<>(i.getMetadataMap()).forEach((k, val) -> md.append("<span class=\"tag\">").append(h(k)).append('=')
          .append(h(val)).append("</span> "));
      String state = i.getIsolated() ? "<span class=\"badge\">isolated</span>"
          : i.getHealth() == HealthStatus.UNHEALTHY ? "<span class=\"badge bad\">unhealthy</span>"
          : "<span class=\"badge ok\">healthy</span>";
      String heartbeat = i.getEphemeral()
          ? Html.ago(health.sinceLastHeartbeatNanos(new HealthChecker.InstanceKey(new ServiceKey(ns, svc), id)))
          : "probed" + (i.hasCheck() ? " (" + (i.getCheck().hasHttp() ? "http" : "tcp") + ")" : "");
      rows.append("""
          <tr data-instance="%s"><th scope="row">%s</th><td>%s:%d</td><td>%s</td>
          <td><form class="inline" hx-post="%s/weight" hx-target="#instance-result">
          <label class="sr-only" for="%s">Weight of %s</label>
          <input id="%s" name="weight" type="number" min="0" max="10000" value="%d" required>
          <button type="submit">Save</button></form>%s</td>
          <td>%s</td><td>%s</td><td>%s</td>
          <td class="actions">%s
          <button type="button" class="danger" hx-post="%s/deregister" hx-target="#instance-result"
                  hx-confirm="Deregister %s from %s/%s? Callers stop seeing it at once.">Deregister</button></td></tr>
          """.formatted(h(id), h(id), h(i.getHost()), i.getPort(), state, act, fid, h(id), fid, i.getWeight(),
          // an operator's weight holds over re-registrations: say so, and offer to hand it back
          !i.hasRegisteredWeight() ? "" : "<span class=\"badge warn\" data-registered-weight=\"" + i.getRegisteredWeight()
              + "\">operator's; registered " + i.getRegisteredWeight() + "</span> <button type=\"button\" hx-post=\""
              + act + "/restore-weight\" hx-target=\"#instance-result\">Give back</button>",
          md,
          i.getEphemeral() ? "ephemeral" : "persistent", heartbeat,
          i.getIsolated()
              ? "<button type=\"button\" hx-post=\"" + act + "/restore\" hx-target=\"#instance-result\">Restore</button>"
              : "<button type=\"button\" hx-post=\"" + act + "/isolate\" hx-target=\"#instance-result\">Isolate</button>",
          act, h(id), h(ns), h(svc)));
    }
    return """
        <p class="protection">%s</p>
        <div class="table-wrap"><table>
        <caption>Instances of %s (revision %d)</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Address</th><th scope="col">State</th><th scope="col">Weight</th>
        <th scope="col">Metadata</th><th scope="col">Kind</th><th scope="col">Last heartbeat</th><th scope="col">Actions</th></tr></thead>
        <tbody>%s</tbody></table></div>
        """.formatted(protection, h(svc), v.revision(), rows.length() == 0 ? "<tr><td colspan=\"8\">No instances.</td></tr>" : rows);
  }

  // ------------------------------------------------------------------ actions (the REST API's calls)

  public CompletableFuture<HttpResponse> weight(String ns, String svc, String id, String weight) {
    String body = weight.matches("\\d{1,9}") ? "{\"weight\":" + weight + "}"
        : "{\"weight\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(weight) + "}";
    return patch(ns, svc, id, body, "Weight of " + id + " set to " + weight + ".");
  }

  public CompletableFuture<HttpResponse> restoreWeight(String ns, String svc, String id) {
    return patch(ns, svc, id, "{\"restoreWeight\":true}", id + " carries the weight it registered with again.");
  }

  public CompletableFuture<HttpResponse> isolate(String ns, String svc, String id) {
    return patch(ns, svc, id, "{\"isolated\":true}", id + " is isolated: out of discovery, still registered.");
  }

  public CompletableFuture<HttpResponse> restore(String ns, String svc, String id) {
    return patch(ns, svc, id, "{\"isolated\":false}", id + " is back in discovery.");
  }

  public CompletableFuture<HttpResponse> deregister(String ns, String svc, String id) {
    return api.json(HttpMethod.DELETE, instancePath(ns, svc, id), null).thenApply(r -> result(
        r.ok() ? Html.notice(id + " was deregistered.") : Html.error(r)));
  }

  private CompletableFuture<HttpResponse> patch(String ns, String svc, String id, String body, String done) {
    return api.json(HttpMethod.PATCH, instancePath(ns, svc, id), body).thenApply(r -> result(
        r.ok() ? Html.notice(done) : Html.error(r)));
  }

  /**
   * The outcome goes to the result region, outside the table, so that the table's live reload
   * (which the change itself triggers) does not wipe it. htmx resolves the target when it sends,
   * so a reload that replaces the button while its request is in flight loses nothing.
   */
  private static HttpResponse result(String message) {
    return Html.ok(message);
  }

  private static String instancePath(String ns, String svc, String id) {
    return "/v1/namespaces/" + u(ns) + "/services/" + u(svc) + "/instances/" + u(id);
  }
}
