package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;
import static io.lodestar.server.console.Html.u;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import io.lodestar.api.v1.GraySelector;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.server.config.ConfigClients;
import io.lodestar.server.http.Routes;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A config's gray release: start one by labels, addresses or a percentage of clients; see which
 * clients hold the candidate; promote or abort. Every action is the REST API's gray call.
 */
final class GrayPanel implements Routes.Owner {
  private final ConfigStore store;
  private final ConfigClients clients;
  private final LoopbackApi api;

  GrayPanel(ConfigStore store, ConfigClients clients, LoopbackApi api) {
    this.store = store;
    this.clients = clients;
    this.api = api;
  }

  static String render(ConfigStore store, ConfigClients clients, ConfigKey key) {
    ConfigView v = store.view(key);
    String base = ConfigPages.base(key.namespace(), key.group(), key.name());
    if (v == null) {
      return "<h2>Gray release</h2><p>Publish a first version before a gray release.</p>";
    }
    if (!v.grayActive()) {
      // hx-preserve: the panel re-renders on every config event; what the operator is typing stays.
      return """
          <h2>Gray release</h2>
          <form class="stack" hx-post="%s/gray" hx-target="#gray-result">
          <label for="gray-content">Candidate content</label>
          <textarea id="gray-content" name="content" rows="6" spellcheck="false" hx-preserve>%s</textarea>
          <fieldset><legend>Who receives it (any of)</legend>
          <label for="gray-labels">Client labels</label><input hx-preserve id="gray-labels" name="labels" placeholder="zone=sh,canary=true">
          <label for="gray-addresses">Client addresses</label><input hx-preserve id="gray-addresses" name="addresses" placeholder="10.0.0.7,10.0.0.8">
          <label for="gray-percent">Percentage of clients</label><input hx-preserve id="gray-percent" name="percent" type="number" min="0" max="100" placeholder="10">
          </fieldset>
          <label for="gray-comment">Comment</label><input hx-preserve id="gray-comment" name="comment">
          <button type="submit">Start the gray release</button>
          </form>
          """.formatted(base, h(ConfigPages.text(v, v.released())));
    }
    GraySelector s = v.selector();
    StringBuilder who = new StringBuilder();
    if (!s.getLabelsMap().isEmpty()) {
      who.append("clients labelled ");
      s.getLabelsMap().forEach((k, val) -> who.append("<span class=\"tag\">").append(h(k)).append('=').append(h(val))
          .append("</span> "));
    }
    if (s.getAddressesCount() > 0) {
      who.append(who.length() > 0 ? "; " : "").append("addresses ").append(h(String.join(", ", s.getAddressesList())));
    }
    if (s.getPercent() > 0) {
      who.append(who.length() > 0 ? "; " : "").append(s.getPercent()).append("% of clients (by client id)");
    }
    StringBuilder holders = new StringBuilder();
    if (clients != null) {
      for (ConfigClients.Holder c : clients.list(key, System.currentTimeMillis())) {
        holders.append("<tr><td>").append(h(c.clientId())).append("</td><td>").append(h(c.address()))
            .append("</td><td class=\"num\">v").append(c.version()).append("</td><td>")
            .append(c.gray() ? "<span class=\"badge warn\">candidate</span>" : "release").append("</td><td>")
            .append(h(c.via())).append("</td></tr>");
      }
    }
    return """
        <h2>Gray release</h2>
        <p data-gray="active">Version <strong>%d</strong> is in gray release to %s; everyone else gets version %d.</p>
        <div class="table-wrap"><table><caption>Clients of this config and what they hold</caption>
        <thead><tr><th scope="col">Client</th><th scope="col">Address</th><th scope="col" class="num">Version</th>
        <th scope="col">Gets</th><th scope="col">Via</th></tr></thead><tbody>%s</tbody></table></div>
        <div class="actions">
        <button type="button" hx-post="%s/gray/promote" hx-target="#gray-result" hx-confirm="Release version %d to everyone?">Promote to everyone</button>
        <button type="button" class="danger" hx-post="%s/gray/abort" hx-target="#gray-result" hx-confirm="Abort the gray release? Everyone returns to the release.">Abort</button>
        </div>
        """.formatted(v.candidate().getVersion(), who, v.released().getVersion(),
        holders.length() == 0 ? "<tr><td colspan=\"5\">No client has read this config yet.</td></tr>" : holders,
        base, v.candidate().getVersion(), base);
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/configs/{ns}/{group}/{name}/gray", "gray",
        c -> gray(c.path("ns"), c.path("group"), c.path("name")));
    routes.post("/ui/configs/{ns}/{group}/{name}/gray", "start",
        c -> start(c.path("ns"), c.path("group"), c.path("name"), c.param("content", ""), c.param("labels", ""),
            c.param("addresses", ""), c.param("percent", ""), c.param("comment", "")));
    routes.post("/ui/configs/{ns}/{group}/{name}/gray/promote", "promote",
        c -> promote(c.path("ns"), c.path("group"), c.path("name")));
    routes.post("/ui/configs/{ns}/{group}/{name}/gray/abort", "abort",
        c -> abort(c.path("ns"), c.path("group"), c.path("name")));
  }

  public HttpResponse gray(String ns, String group, String name) {
    return Html.ok(render(store, clients, ConfigKey.of(ns, group, name)));
  }

  public CompletableFuture<HttpResponse> start(String ns, String group, String name, String content, String labels,
      String addresses, String percent, String comment) {
    StringBuilder q = new StringBuilder("?author=console&comment=").append(u(comment));
    if (!labels.isBlank()) {
      q.append("&labels=").append(u(labels.strip()));
    }
    if (!addresses.isBlank()) {
      q.append("&addresses=").append(u(addresses.strip()));
    }
    if (!percent.isBlank()) {
      q.append("&percent=").append(u(percent.strip()));
    }
    return api.send(HttpMethod.PUT, ConfigPages.apiPath(ns, group, name) + "/gray" + q, Map.of(),
        MediaType.PLAIN_TEXT_UTF_8, content).thenApply(r -> done(ns, group, name, r,
        "Gray release of version " + r.body().path("version").asLong() + " started."));
  }

  public CompletableFuture<HttpResponse> promote(String ns, String group, String name) {
    return api.json(HttpMethod.POST, ConfigPages.apiPath(ns, group, name) + "/gray/promote?author=console", "")
        .thenApply(r -> done(ns, group, name, r, "Promoted: version " + r.body().path("version").asLong()
            + " is the release."));
  }

  public CompletableFuture<HttpResponse> abort(String ns, String group, String name) {
    return api.json(HttpMethod.POST, ConfigPages.apiPath(ns, group, name) + "/gray/abort?author=console", "")
        .thenApply(r -> done(ns, group, name, r, "Aborted: everyone is back on the release (version "
            + r.body().path("version").asLong() + ")."));
  }

  private HttpResponse done(String ns, String group, String name, ApiResult r, String ok) {
    // the panel itself reloads on the change feed (sse:config)
    return Html.ok(r.ok() ? Html.notice(ok) : Html.error(r));
  }
}
