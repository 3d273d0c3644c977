package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;
import static io.lodestar.server.console.Html.u;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import io.lodestar.api.v1.ConfigFormat;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.Namespace;
import io.lodestar.core.LodestarException;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.core.naming.Registry;
import io.lodestar.server.config.ConfigFormats;
import io.lodestar.server.http.Routes;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ui/configs}: the list by group, and a config's editor: validation as you type (the
 * server's own format check, with line numbers), publish with a comment under compare-and-set
 * (a conflict shows the newer version and a diff instead of overwriting). History and gray
 * releases are {@link ConfigHistoryPanel} and {@link GrayPanel}. Secret content is never sent to
 * the browser: the view holds ciphertext, and the editor shows a mask.
 */
final class ConfigPages implements Routes.Owner {
  private static final String[] FORMATS = {"text", "properties", "yaml", "json"};
  private final Registry registry;
  private final ConfigStore store;
  private final io.lodestar.server.config.ConfigClients clients;
  private final LoopbackApi api;

  ConfigPages(Registry registry, ConfigStore store, io.lodestar.server.config.ConfigClients clients, LoopbackApi api) {
    this.registry = registry;
    this.store = store;
    this.clients = clients;
    this.api = api;
  }

  static String base(String ns, String group, String name) {
    return "/ui/configs/" + u(ns) + "/" + u(group) + "/" + u(name);
  }

  static String apiPath(String ns, String group, String name) {
    return "/v1/namespaces/" + u(ns) + "/configs/" + u(group) + "/" + u(name);
  }

  /** A version's text; secret content stays ciphertext on the server and is never rendered. */
  static String text(ConfigView v, ConfigVersion c) {
    return v.secret() ? "" : c.getContent().toString(StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ list

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/configs", "list", c -> list(c.param("ns", "default"), c.param("group", "")));
    routes.get("/ui/configs/new", "newConfig",
        c -> newConfig(c.required("ns"), c.required("group"), c.required("name")));
    routes.get("/ui/fragments/configs", "configRows",
        c -> configRows(c.param("ns", "default"), c.param("group", "")));
    routes.get("/ui/configs/{ns}/{group}/{name}", "editor",
        c -> editor(c.path("ns"), c.path("group"), c.path("name")));
    routes.post("/ui/configs/validate", "validate", c -> validate(c.param("format", "text"), c.param("content", "")));
    routes.post("/ui/configs/{ns}/{group}/{name}/publish", "publish",
        c -> publish(c.path("ns"), c.path("group"), c.path("name"), c.param("format", "text"), c.param("content",
            ""), c.param("comment", ""), c.param("base", "0")));
  }

  public HttpResponse list(String ns, String group) {
    StringBuilder options = new StringBuilder();
    for (Namespace n : registry.namespaces()) {
      options.append("<option").append(n.getName().equals(ns) ? " selected" : "").append('>')
          .append(h(n.getName())).append("</option>");
    }
    return Html.page("Configs", "/ui/configs", """
        <form id="config-filter" class="filters" hx-get="/ui/fragments/configs" hx-target="#config-rows"
              hx-trigger="change from:#ns, input changed delay:200ms from:#group, submit">
        <label for="ns">Namespace</label><select id="ns" name="ns">%s</select>
        <label for="group">Group</label><input id="group" name="group" value="%s" placeholder="all groups" autocomplete="off">
        </form>
        <div class="table-wrap"><table>
        <caption>Configs by group</caption>
        <thead><tr><th scope="col">Group</th><th scope="col">Name</th><th scope="col">Format</th><th scope="col" class="num">Version</th>
        <th scope="col">Flags</th><th scope="col">Updated</th><th scope="col">Comment</th></tr></thead>
        <tbody id="config-rows" hx-get="/ui/fragments/configs" hx-include="#config-filter" hx-trigger="sse:config">%s</tbody>
        </table></div>
        <h2>New config</h2>
        <form class="stack" method="get" action="/ui/configs/new">
        <input type="hidden" name="ns" value="%s">
        <label for="new-group">Group</label><input id="new-group" name="group" required pattern="[A-Za-z0-9._-]+">
        <label for="new-name">Name</label><input id="new-name" name="name" required placeholder="db.properties">
        <button type="submit">Open the editor</button>
        </form>
        """.formatted(options, h(group), rows(ns, group), h(ns)));
  }

  public HttpResponse newConfig(String ns, String group, String name) {
    return HttpResponse.ofRedirect(base(ns, group, name));
  }

  public HttpResponse configRows(String ns, String group) {
    return Html.ok(rows(ns, group));
  }

  private String rows(String ns, String group) {
    if (registry.namespace(ns) == null) {
      return "<tr><td colspan=\"7\">Namespace " + h(ns) + " does not exist.</td></tr>";
    }
    StringBuilder b = new StringBuilder();
    String g = group.strip();
    for (ConfigView v : store.views(ns, null)) {
      if (!g.isEmpty() && !v.key().group().contains(g)) {
        continue;
      }
      ConfigVersion r = v.released();
      b.append("<tr data-config=\"").append(h(v.key().group() + "/" + v.key().name())).append("\"><td>")
          .append(h(v.key().group())).append("</td><th scope=\"row\"><a href=\"")
          .append(base(ns, v.key().group(), v.key().name())).append("\">").append(h(v.key().name()))
          .append("</a></th><td>").append(ConfigFormats.name(r.getFormat())).append("</td><td class=\"num\">")
          .append(r.getVersion()).append("</td><td>")
          .append(v.secret() ? "<span class=\"badge\">secret</span> " : "")
          .append(v.grayActive() ? "<span class=\"badge warn\">gray v" + v.candidate().getVersion() + "</span>" : "")
          .append("</td><td>").append(Html.time(r.getCreatedAtMs())).append("</td><td>").append(h(r.getComment()))
          .append("</td></tr>");
    }
    if (b.length() == 0) {
      b.append("<tr><td colspan=\"7\">No configs").append(g.isEmpty() ? "" : " in groups matching " + h(g))
          .append(".</td></tr>");
    }
    return b.toString();
  }

  // ------------------------------------------------------------------ editor

  public HttpResponse editor(String ns, String group, String name) {
    ConfigKey key = ConfigKey.of(ns, group, name);
    ConfigView v = store.view(key);
    ConfigFormat format = v != null ? v.released().getFormat() : ConfigFormats.guess(name);
    long version = v == null ? 0 : v.released().getVersion();
    boolean secret = v != null && v.secret();
    String base = base(ns, group, name);
    StringBuilder formats = new StringBuilder();
    for (String f : FORMATS) {
      formats.append("<option").append(f.equals(ConfigFormats.name(format)) ? " selected" : "").append('>')
          .append(f).append("</option>");
    }
    String content = v == null ? "" : text(v, v.released());
    String status = v == null ? "New config: the first publish creates it."
        : "Version " + version + (secret ? ", secret (content hidden)" : "") + ", published " + Html.time(v.released().getCreatedAtMs())
            + (v.grayActive() ? "; gray release of version " + v.candidate().getVersion() + " in progress" : "") + ".";
    return Html.page(name, "/ui/configs", """
        <p class="crumbs"><a href="/ui/configs?ns=%s">%s</a> / %s / %s</p>
        <p id="config-status">%s</p>
        <form id="editor" class="stack" hx-post="%s/publish" hx-target="#publish-result">
        <input type="hidden" id="base" name="base" value="%d">
        <label for="format">Format</label>
        <select id="format" name="format" hx-post="/ui/configs/validate" hx-include="#content, #format" hx-target="#validation" hx-trigger="change">%s</select>
        <label for="content">Content</label>
        <textarea id="content" name="content" rows="10" spellcheck="false" aria-describedby="validation" %s
                  hx-post="/ui/configs/validate" hx-include="#content, #format" hx-target="#validation"
                  hx-trigger="input changed delay:300ms">%s</textarea>
        <div id="validation" aria-live="polite"></div>
        <label for="comment">Comment</label>
        <input id="comment" name="comment" maxlength="1024" placeholder="what changed, and why">
        <button type="submit">Publish</button>
        </form>
        <div id="publish-result" aria-live="polite"></div>
        <div id="history-result" aria-live="polite"></div>
        <section id="history" hx-get="%s/history" hx-trigger="sse:config, published from:body">%s</section>
        <div id="diff" aria-live="polite"></div>
        <div id="gray-result" aria-live="polite"></div>
        <section id="gray" hx-get="%s/gray" hx-trigger="sse:config, published from:body">%s</section>
        """.formatted(u(ns), h(ns), h(group), h(name), h(status), base, version, formats,
        secret ? "placeholder=\"Secret: the content is not shown. Type new content to replace it.\"" : "",
        h(content), base, ConfigHistoryPanel.render(store, key), base, GrayPanel.render(store, clients, key)));
  }

  /** The server's own format check, with the line and column it reports. */
  public HttpResponse validate(String format, String content) {
    try {
      ConfigFormat f = ConfigFormats.parse(format);
      ConfigFormats.validate(f, content.getBytes(StandardCharsets.UTF_8));
      return Html.ok("<p class=\"valid\">Valid " + h(ConfigFormats.name(f)) + ".</p>");
    } catch (LodestarException e) {
      return Html.ok("<p class=\"error\" role=\"alert\" data-field=\"" + h(e.field()) + "\">" + h(e.getMessage()) + "</p>");
    }
  }

  public CompletableFuture<HttpResponse> publish(String ns, String group, String name, String format, String content,
      String comment, String base) {
    String path = apiPath(ns, group, name) + "?format=" + u(format) + "&comment=" + u(comment) + "&author=console";
    return api.send(HttpMethod.PUT, path, Map.of("If-Match", base), MediaType.PLAIN_TEXT_UTF_8, content)
        .thenApply(r -> {
          if (r.ok()) {
            long v = r.body().path("version").asLong();
            // The new base for the next publish, swapped out of band; "published" reloads history and gray.
            return HttpResponse.of(com.linecorp.armeria.common.ResponseHeaders.builder(200)
                .contentType(MediaType.HTML_UTF_8).add("HX-Trigger", "published").build(),
                com.linecorp.armeria.common.HttpData.ofUtf8(Html.notice("Published version " + v + ".")
                    + "<input type=\"hidden\" id=\"base\" name=\"base\" value=\"" + v + "\" hx-swap-oob=\"true\">"));
          }
          ConfigView now = store.view(ConfigKey.of(ns, group, name));
          if (r.conflict() && now != null && !base.equals(Long.toString(now.released().getVersion()))) {
            return Html.ok(conflict(ns, group, name, now, content));
          }
          return Html.ok(Html.error(r) + "<p>Nothing was published.</p>");
        });
  }

  /** Someone published since this editor loaded: show theirs and the difference, overwrite only on request. */
  private String conflict(String ns, String group, String name, ConfigView now, String mine) {
    ConfigVersion newer = now.released();
    String theirs = text(now, newer);
    return """
        <div class="conflict" role="alert" data-newer-version="%d">
        <p><strong>Not published: version %d was published since you opened this config</strong> (by %s, %s: “%s”).
        Your text is still in the editor.</p>
        <h3>Version %d</h3>
        <pre class="content">%s</pre>
        <h3>Differences from version %d to your text</h3>
        %s
        <form hx-post="%s/publish" hx-target="#publish-result" hx-include="#content, #format, #comment">
        <input type="hidden" name="base" value="%d">
        <button type="submit">Publish mine over version %d</button>
        <a href="%s">Discard mine and load version %d</a>
        </form>
        </div>
        """.formatted(newer.getVersion(), newer.getVersion(), h(newer.getAuthor()), Html.time(newer.getCreatedAtMs()),
        h(newer.getComment()), newer.getVersion(), now.secret() ? "(secret: hidden)" : h(theirs), newer.getVersion(),
        now.secret() ? "<p>Secret content: no diff is shown.</p>"
            : TextDiff.html("version " + newer.getVersion(), theirs, "yours", mine),
        base(ns, group, name), newer.getVersion(), newer.getVersion(), base(ns, group, name), newer.getVersion());
  }
}
