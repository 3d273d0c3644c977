package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;
import static io.lodestar.server.console.Html.u;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.core.governance.RuleKind;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Routes;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ui/services/{ns}/{svc}/rules}: one editor per rule kind (the REST API's JSON, saved
 * with its PUT, its validation errors shown inline with the JSON path it names), and what the
 * route rules do ({@link RouteExplainer}).
 */
final class RulePages implements Routes.Owner {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Registry registry;
  private final LoopbackApi api;

  RulePages(Registry registry, LoopbackApi api) {
    this.registry = registry;
    this.api = api;
  }

  private static String apiPath(String ns, String svc) {
    return "/v1/namespaces/" + u(ns) + "/services/" + u(svc) + "/rules";
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/services/{ns}/{svc}/rules", "page", c -> page(c.path("ns"), c.path("svc")));
    routes.post("/ui/services/{ns}/{svc}/rules/{kind}", "save",
        c -> save(c.path("ns"), c.path("svc"), c.path("kind"), c.param("body", "")));
    routes.post("/ui/services/{ns}/{svc}/rules/{kind}/delete", "delete",
        c -> delete(c.path("ns"), c.path("svc"), c.path("kind")));
    routes.get("/ui/fragments/services/{ns}/{svc}/routes", "routes", c -> routes(c.path("ns"), c.path("svc")));
  }

  public CompletableFuture<HttpResponse> page(String ns, String svc) {
    return api.json(HttpMethod.GET, apiPath(ns, svc), null).thenApply(r -> {
      JsonNode own = r.ok() ? r.body().path("rules") : JSON.createObjectNode();
      JsonNode effective = r.ok() ? r.body().path("effective") : JSON.createObjectNode();
      StringBuilder body = new StringBuilder("<p class=\"crumbs\"><a href=\"/ui/services?ns=" + u(ns) + "\">" + h(ns)
          + "</a> / <a href=\"/ui/services/" + u(ns) + "/" + u(svc) + "\">" + h(svc) + "</a> / rules</p>"
          + "<p>Each kind is the JSON of the REST API's governance rules (docs/api.md); the "
          + "server validates it on save. A kind the service does not set comes from its namespace's default.</p>");
      ServiceView v = registry.view(ns, svc);
      for (RuleKind k : RuleKind.values()) {
        if (k.namespaceOnly()) {
          continue;  // a lane rule is the namespace's (PUT /v1/namespaces/{ns}/rules/lane)
        }
        body.append(editor(ns, svc, k, own.path(k.wireName()), effective.path(k.wireName())));
        if (k == RuleKind.ROUTE) {
          // what the route rules do, right under their editor; recomputed on every change
          body.append("<section id=\"route-explain\" hx-get=\"/ui/fragments/services/").append(u(ns)).append('/')
              .append(u(svc)).append("/routes\" hx-trigger=\"sse:naming\">")
              .append(v == null ? "" : RouteExplainer.render(v)).append("</section>");
        }
      }
      return Html.page("Rules of " + svc, "/ui/services", body.toString());
    });
  }

  private static String editor(String ns, String svc, RuleKind k, JsonNode own, JsonNode effective) {
    String kind = k.wireName();
    String source = !own.isMissingNode() && !own.isNull() ? "This service's own rule."
        : !effective.isMissingNode() && !effective.isNull() ? "Not set here: the namespace default applies (shown)."
        : "Not set: built-in defaults apply.";
    JsonNode shown = !own.isMissingNode() && !own.isNull() ? own : effective;
    String text = shown.isMissingNode() || shown.isNull() ? "{}" : pretty(shown);
    return """
        <section class="rule" id="rule-%s">
        <h2>%s</h2>
        <p>%s</p>
        <form class="stack" hx-post="/ui/services/%s/%s/rules/%s" hx-target="#rule-result-%s">
        <label for="rule-body-%s">%s rule (JSON)</label>
        <textarea id="rule-body-%s" name="body" rows="8" spellcheck="false" aria-describedby="rule-result-%s">%s</textarea>
        <div class="actions"><button type="submit">Save %s</button>
        <button type="button" class="danger" hx-post="/ui/services/%s/%s/rules/%s/delete" hx-target="#rule-result-%s"
                hx-confirm="Delete this service's %s rule?">Delete</button></div>
        </form>
        <div id="rule-result-%s" aria-live="polite"></div>
        </section>
        """.formatted(kind, kind, source, u(ns), u(svc), kind, kind, kind, kind, kind, kind, h(text), kind,
        u(ns), u(svc), kind, kind, kind, kind);
  }

  private static String pretty(JsonNode n) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return n.toString();
    }
  }

  public CompletableFuture<HttpResponse> save(String ns, String svc, String kind, String body) {
    return api.json(HttpMethod.PUT, apiPath(ns, svc) + "/" + u(kind), body).thenApply(r -> Html.ok(r.ok()
        ? Html.notice("Saved: " + kind + " rule version " + r.body().path("version").asLong() + ".")
        : Html.error(r) + "<p>Nothing was saved.</p>"));
  }

  public CompletableFuture<HttpResponse> delete(String ns, String svc, String kind) {
    return api.json(HttpMethod.DELETE, apiPath(ns, svc) + "/" + u(kind), null).thenApply(r -> Html.ok(r.ok()
        ? Html.notice("Deleted the " + kind + " rule.") : Html.error(r)));
  }

  public HttpResponse routes(String ns, String svc) {
    ServiceView v = registry.view(ns, svc);
    return Html.ok(v == null ? "" : RouteExplainer.render(v));
  }
}
