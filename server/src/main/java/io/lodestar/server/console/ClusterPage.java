package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.server.http.Routes;
import java.util.concurrent.CompletableFuture;

/** {@code /ui/cluster}: members, roles, last applied index, and the snapshot and backup actions. */
final class ClusterPage implements Routes.Owner {
  private final LoopbackApi api;

  ClusterPage(LoopbackApi api) {
    this.api = api;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/cluster", "page", c -> page());
    routes.get("/ui/fragments/cluster", "fragment", c -> fragment());
    routes.post("/ui/cluster/snapshot", "snapshot", c -> snapshot());
    routes.post("/ui/cluster/backup", "backup", c -> backup());
  }

  public CompletableFuture<HttpResponse> page() {
    return members().thenApply(m -> Html.page("Cluster", "/ui/cluster", """
        <section id="members" hx-get="/ui/fragments/cluster" hx-trigger="every 3s" hx-swap="innerHTML">%s</section>
        <h2>Actions</h2>
        <div class="actions">
        <button type="button" hx-post="/ui/cluster/snapshot" hx-target="#action-result">Take a snapshot now</button>
        <button type="button" hx-post="/ui/cluster/backup" hx-target="#action-result">Write a backup</button>
        </div>
        <div id="action-result" aria-live="polite"></div>
        """.formatted(m)));
  }

  public CompletableFuture<HttpResponse> fragment() {
    return members().thenApply(Html::ok);
  }

  private CompletableFuture<String> members() {
    return api.json(HttpMethod.GET, "/v1/cluster", null).thenApply(c -> {
      if (!c.ok()) {
        return Html.error(c);
      }
      StringBuilder rows = new StringBuilder();
      for (JsonNode m : c.body().path("members")) {
        rows.append("<tr><td>").append(h(m.path("id").asText())).append("</td><td>")
            .append(h(m.path("address").asText())).append("</td><td><span class=\"badge ")
            .append(h(m.path("role").asText())).append("\">").append(h(m.path("role").asText()))
            .append("</span>")
            .append(m.hasNonNull("stalled") ? " <span class=\"badge warn\" data-stalled title=\""
                + h(m.path("stalled").asText()) + "\">stopped applying: rebuild it</span>" : "")
            .append("</td><td class=\"num\">")
            .append(m.path("lastApplied").isNull() ? "—" : h(m.path("lastApplied").asText()))
            .append("</td><td class=\"num\">")
            .append(m.path("featureLevel").isNull() ? "—" : h(m.path("featureLevel").asText())).append("</td></tr>");
      }
      // a level held below the version's is an upgrade under way (or a member held back): say who
      StringBuilder waits = new StringBuilder();
      for (JsonNode w : c.body().path("featureLevelWaitsFor")) {
        waits.append(waits.length() == 0 ? "" : ", ").append(h(w.asText()));
      }
      String level = waits.length() == 0 ? "" : " <span class=\"badge warn\" data-waits-for>waits for " + waits
          + ": an older version, or a held level</span>";
      return """
          <p>Leader <strong>%s</strong>, term <strong>%d</strong>, feature level <strong data-feature-level>%d</strong>%s.</p>
          <div class="table-wrap"><table><caption>Members</caption>
          <thead><tr><th scope="col">Id</th><th scope="col">Address</th><th scope="col">Role</th><th scope="col">Last applied index</th><th scope="col">Agrees to level</th></tr></thead>
          <tbody>%s</tbody></table></div>
          """.formatted(h(c.body().path("leader").asText()), c.body().path("term").asLong(),
          c.body().path("featureLevel").asInt(), level, rows);
    });
  }

  public CompletableFuture<HttpResponse> snapshot() {
    return api.json(HttpMethod.POST, "/v1/cluster/snapshot", "").thenApply(r -> Html.ok(r.ok()
        ? Html.notice("Snapshot taken at index " + r.body().path("index").asLong() + ".") : Html.error(r)));
  }

  public CompletableFuture<HttpResponse> backup() {
    return api.json(HttpMethod.POST, "/v1/cluster/backup", "").thenApply(r -> Html.ok(r.ok()
        ? Html.notice("Backup written: " + r.body().path("file").asText() + " (index " + r.body().path("index").asLong()
            + ").") : Html.error(r)));
  }
}
