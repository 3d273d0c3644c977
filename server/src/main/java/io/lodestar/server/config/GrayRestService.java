package io.lodestar.server.config;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.GraySelector;
import io.lodestar.api.v1.state.AbortConfigGray;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.PromoteConfigGray;
import io.lodestar.core.LodestarException;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import io.lodestar.server.storage.CommandLog;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Gray releases under /v1/namespaces/{ns}/configs/{group}/{name}/gray: publish a candidate to a
 * selector, see who holds which version, promote or abort.
 */
public final class GrayRestService implements Routes.Owner {
  private final CommandLog commandLog;
  private final ConfigRequests requests;
  private final ConfigClients clients;

  public GrayRestService(io.lodestar.core.naming.Registry registry, io.lodestar.core.config.ConfigStore store,
      CommandLog commandLog, SecretBox secrets, ConfigClients clients) {
    this.commandLog = commandLog;
    this.requests = new ConfigRequests(registry, store, secrets);
    this.clients = clients;
  }

  @Override
  public void bind(Routes routes) {
    routes.put("/v1/namespaces/{ns}/configs/{group}/{name}/gray", "publishGray",
        c -> publishGray(c.path("ns"), c.path("group"), c.path("name"), c.optional("labels"),
            c.optional("addresses"), c.optional("percent"), c.optional("format"), c.optional("comment"),
            c.optional("author"), c.request()));
    routes.get("/v1/namespaces/{ns}/configs/{group}/{name}/gray", "status",
        c -> status(c.path("ns"), c.path("group"), c.path("name")));
    routes.get("/v1/namespaces/{ns}/configs/{group}/{name}/clients", "clients",
        c -> clients(c.path("ns"), c.path("group"), c.path("name")));
    routes.post("/v1/namespaces/{ns}/configs/{group}/{name}/gray/promote", "promote",
        c -> promote(c.path("ns"), c.path("group"), c.path("name"), c.optional("author"), c.request()));
    routes.post("/v1/namespaces/{ns}/configs/{group}/{name}/gray/abort", "abort",
        c -> abort(c.path("ns"), c.path("group"), c.path("name"), c.optional("author"), c.request()));
  }

  /** The body is the candidate's raw content; the selector comes from the query. */
  public CompletableFuture<HttpResponse> publishGray(String ns, String group, String name, Optional<String> labels,
      Optional<String> addresses, Optional<String> percent, Optional<String> format, Optional<String> comment,
      Optional<String> author, AggregatedHttpRequest req) {
    ConfigKey key = requests.key(ns, group, name);
    GraySelector.Builder sel = GraySelector.newBuilder();
    labels.ifPresent(l -> sel.putAllLabels(parseLabels(l)));
    addresses.ifPresent(a -> {
      for (String x : a.split(",")) {
        if (!x.isBlank()) {
          sel.addAddresses(x.strip());
        }
      }
    });
    percent.ifPresent(p -> sel.setPercent((int) Math.min(ConfigRequests.number("gray.percent", p), 1000)));
    io.lodestar.core.config.GrayRule.validate(sel.build());
    var p = requests.publish(key, req.content().array(), format, Optional.empty(), comment, Optional.empty(), author);
    p.setGray(sel);
    return commandLog.submit(Command.newBuilder().setPublishConfig(p).build())
        .thenApply(r -> Json.ok(Json.object().put("version", r.getConfigVersion().getVersion()).put("gray", true)));
  }

  public HttpResponse status(String ns, String group, String name) {
    ConfigView v = requests.require(requests.key(ns, group, name));
    ObjectNode o = Json.object();
    o.put("active", v.grayActive());
    o.put("releasedVersion", v.released().getVersion());
    if (v.grayActive()) {
      o.put("candidateVersion", v.candidate().getVersion());
      o.set("selector", ConfigJson.selector(v.selector()));
      o.put("author", v.grayAuthor());
      o.put("startedAt", ConfigJson.time(v.grayStartedAtMs()));
    }
    addClients(o, v.key());
    return Json.ok(o);
  }

  /** Which clients hold which version of the config. */
  public HttpResponse clients(String ns, String group, String name) {
    ConfigView v = requests.require(requests.key(ns, group, name));
    ObjectNode o = Json.object();
    o.put("releasedVersion", v.released().getVersion());
    if (v.grayActive()) {
      o.put("candidateVersion", v.candidate().getVersion());
    }
    addClients(o, v.key());
    return Json.ok(o);
  }

  public CompletableFuture<HttpResponse> promote(String ns, String group, String name, Optional<String> author,
      com.linecorp.armeria.common.AggregatedHttpRequest req) {
    requests.key(ns, group, name);
    Json.requireNoBody(req);
    return commandLog.submit(Command.newBuilder().setPromoteConfigGray(PromoteConfigGray.newBuilder()
        .setNamespace(ns).setGroup(group).setName(name).setAuthor(author.orElse(ConfigRequests.ANONYMOUS))).build())
        .thenApply(r -> Json.ok(Json.object().put("version", r.getConfigVersion().getVersion())));
  }

  public CompletableFuture<HttpResponse> abort(String ns, String group, String name, Optional<String> author,
      com.linecorp.armeria.common.AggregatedHttpRequest req) {
    requests.key(ns, group, name);
    Json.requireNoBody(req);
    return commandLog.submit(Command.newBuilder().setAbortConfigGray(AbortConfigGray.newBuilder()
        .setNamespace(ns).setGroup(group).setName(name).setAuthor(author.orElse(ConfigRequests.ANONYMOUS))).build())
        .thenApply(r -> Json.ok(Json.object().put("version", r.getConfigVersion().getVersion())));
  }

  private void addClients(ObjectNode o, ConfigKey key) {
    ArrayNode arr = o.putArray("clients");
    clients.list(key, System.currentTimeMillis()).forEach(h -> arr.add(ConfigJson.holder(h)));
  }

  /** {@code zone=sh,version=2.1} → a label map; each entry needs a key and a value. */
  static Map<String, String> parseLabels(String s) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : s.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw LodestarException.invalid("labels", "labels must look like zone=sh,version=2.1; got '" + part + "'");
      }
      out.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
    }
    return out;
  }
}
