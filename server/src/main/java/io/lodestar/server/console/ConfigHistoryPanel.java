package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.server.http.Routes;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A config's kept versions: a diff between any two, and rollback (the REST API's rollback). */
final class ConfigHistoryPanel implements Routes.Owner {
  private final ConfigStore store;
  private final LoopbackApi api;

  ConfigHistoryPanel(ConfigStore store, LoopbackApi api) {
    this.store = store;
    this.api = api;
  }

  static String render(ConfigStore store, ConfigKey key) {
    ConfigView v = store.view(key);
    if (v == null) {
      return "<h2>History</h2><p>No versions yet.</p>";
    }
    String base = ConfigPages.base(key.namespace(), key.group(), key.name());
    List<ConfigVersion> versions = v.history();
    StringBuilder rows = new StringBuilder();
    StringBuilder from = new StringBuilder();
    StringBuilder to = new StringBuilder();
    for (int i = versions.size() - 1; i >= 0; i--) {
      ConfigVersion c = versions.get(i);
      boolean released = c.getVersion() == v.released().getVersion();
      boolean candidate = v.grayActive() && c.getVersion() == v.candidate().getVersion();
      rows.append("<tr data-version=\"").append(c.getVersion()).append("\"><th scope=\"row\" class=\"num\">")
          .append(c.getVersion()).append("</th><td>").append(Html.time(c.getCreatedAtMs())).append("</td><td>")
          .append(h(c.getAuthor())).append("</td><td>").append(h(c.getComment()))
          .append(c.getRollbackOf() != 0 ? " <span class=\"tag\">rollback of v" + c.getRollbackOf() + "</span>" : "")
          .append("</td><td>")
          .append(released ? "<span class=\"badge ok\">released</span>" : candidate ? "<span class=\"badge warn\">gray</span>"
              : "<button type=\"button\" hx-post=\"" + base + "/rollback?to=" + c.getVersion()
                  + "\" hx-target=\"#history-result\" hx-confirm=\"Publish the content of version " + c.getVersion()
                  + " as a new version?\">Roll back to v" + c.getVersion() + "</button>")
          .append("</td></tr>");
      // by default: the one before the newest, with the newest
      from.append("<option value=\"").append(c.getVersion()).append('"').append(i == versions.size() - 2 ? " selected" : "")
          .append(">v").append(c.getVersion()).append("</option>");
      to.append("<option value=\"").append(c.getVersion()).append("\">v").append(c.getVersion()).append("</option>");
    }
    return """
        <h2>History</h2>
        <div class="table-wrap"><table><caption>Kept versions (newest first; the last %d are kept)</caption>
        <thead><tr><th scope="col" class="num">Version</th><th scope="col">Published</th><th scope="col">Author</th>
        <th scope="col">Comment</th><th scope="col">Action</th></tr></thead><tbody>%s</tbody></table></div>
        <form class="filters" hx-get="%s/diff" hx-target="#diff">
        <label for="diff-from">Compare</label><select id="diff-from" name="from">%s</select>
        <label for="diff-to">with</label><select id="diff-to" name="to">%s</select>
        <button type="submit">Show differences</button>
        </form>
        """.formatted(v.historyLimit(), rows, base, from, to);
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/configs/{ns}/{group}/{name}/history", "history",
        c -> history(c.path("ns"), c.path("group"), c.path("name")));
    routes.get("/ui/configs/{ns}/{group}/{name}/diff", "diff",
        c -> diff(c.path("ns"), c.path("group"), c.path("name"), c.requiredNumber("from"), c.requiredNumber("to")));
    routes.post("/ui/configs/{ns}/{group}/{name}/rollback", "rollback",
        c -> rollback(c.path("ns"), c.path("group"), c.path("name"), c.requiredNumber("to")));
  }

  public HttpResponse history(String ns, String group, String name) {
    return Html.ok(render(store, ConfigKey.of(ns, group, name)));
  }

  public HttpResponse diff(String ns, String group, String name, long from, long to) {
    ConfigView v = store.view(ConfigKey.of(ns, group, name));
    ConfigVersion a = v == null ? null : v.find(from);
    ConfigVersion b = v == null ? null : v.find(to);
    if (a == null || b == null) {
      return Html.ok("<p class=\"error\" role=\"alert\">That version is no longer kept.</p>");
    }
    if (v.secret()) {
      return Html.ok("<p>Secret config: contents are not shown. Hashes: v" + from + " " + h(a.getHash()) + ", v" + to
          + " " + h(b.getHash()) + (a.getHash().equals(b.getHash()) ? " (same content)." : " (different)."));
    }
    return Html.ok(TextDiff.html("v" + from, ConfigPages.text(v, a), "v" + to, ConfigPages.text(v, b)));
  }

  public CompletableFuture<HttpResponse> rollback(String ns, String group, String name, long to) {
    return api.json(HttpMethod.POST, ConfigPages.apiPath(ns, group, name) + "/rollback?author=console",
        "{\"toVersion\":" + to + ",\"comment\":\"rollback to v" + to + " from the console\"}")
        .thenApply(r -> Html.ok(r.ok()
            ? Html.notice("Rolled back: version " + r.body().path("version").asLong() + " has the content of v" + to + ".")
            : Html.error(r)));
  }
}
