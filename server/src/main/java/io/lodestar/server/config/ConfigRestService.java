package io.lodestar.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteConfig;
import io.lodestar.api.v1.state.RollbackConfig;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.LongPolls;
import io.lodestar.server.http.Routes;
import io.lodestar.server.naming.NamingRestService;
import io.lodestar.server.storage.CommandLog;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The config REST API under /v1/namespaces/{ns}/configs. Paths are a public contract
 * (docs/api.md). Reads return the raw content with its version in {@link #VERSION_HEADER}.
 */
public final class ConfigRestService implements Routes.Owner {
  public static final String VERSION_HEADER = "X-Lodestar-Config-Version";
  public static final String HASH_HEADER = "X-Lodestar-Config-Hash";
  public static final String GRAY_HEADER = "X-Lodestar-Config-Gray";
  /** Set when a secret config's content was replaced by the mask (the token lacks secrets:NS). */
  public static final String MASKED_HEADER = "X-Lodestar-Config-Masked";
  static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

  private final ConfigStore store;
  private final CommandLog commandLog;
  private final ConfigRequests requests;
  private final SecretBox secrets;
  private final ConfigClients clients;
  private final LongPolls<io.lodestar.core.config.ConfigKey> watchers;
  private final io.lodestar.server.auth.Authorizer authorizer;

  public ConfigRestService(io.lodestar.core.naming.Registry registry, ConfigStore store, CommandLog commandLog,
      SecretBox secrets, ConfigClients clients, Executor notifier, int maxLongPollsPerClient,
      io.lodestar.server.auth.Authorizer authorizer) {
    this.authorizer = authorizer;
    this.store = store;
    this.commandLog = commandLog;
    this.requests = new ConfigRequests(registry, store, secrets);
    this.secrets = secrets;
    this.clients = clients;
    this.watchers = new LongPolls<>(notifier, maxLongPollsPerClient);
    store.addListener(view -> watchers.wake(view.key()));
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/namespaces/{ns}/configs", "list", c -> list(c.path("ns"), c.optional("group")));
    routes.put("/v1/namespaces/{ns}/configs/{group}/{name}", "publish",
        c -> publish(c.path("ns"), c.path("group"), c.path("name"), c.optional("format"), c.optional("comment"),
            c.optional("secret"), c.optional("keep"), c.optional("author"), c.header("If-Match"), c.request()));
    routes.get("/v1/namespaces/{ns}/configs/{group}/{name}", "get",
        c -> get(c.ctx(), c.path("ns"), c.path("group"), c.path("name"), c.optional("version"), c.optional("index"),
            c.optional("wait"), c.optional("clientId"), c.optional("labels")));
    routes.get("/v1/namespaces/{ns}/configs/{group}/{name}/history", "history",
        c -> history(c.path("ns"), c.path("group"), c.path("name")));
    routes.post("/v1/namespaces/{ns}/configs/{group}/{name}/rollback", "rollback",
        c -> rollback(c.path("ns"), c.path("group"), c.path("name"), c.optional("author"), c.header("If-Match"),
            c.request()));
    routes.delete("/v1/namespaces/{ns}/configs/{group}/{name}", "delete",
        c -> delete(c.path("ns"), c.path("group"), c.path("name"), c.header("If-Match")));
  }

  public HttpResponse list(String ns, Optional<String> group) {
    requests.namespace(ns);
    group.ifPresent(g -> Validation.name("group", g));
    ObjectNode root = Json.object();
    ArrayNode arr = root.putArray("configs");
    store.views(ns, group.orElse(null)).forEach(v -> arr.add(ConfigJson.summary(v)));
    return Json.ok(root);
  }

  public CompletableFuture<HttpResponse> publish(String ns, String group, String name, Optional<String> format,
      Optional<String> comment, Optional<String> secret, Optional<String> keep, Optional<String> author,
      Optional<String> ifMatch, AggregatedHttpRequest req) {
    ConfigKey key = requests.key(ns, group, name);
    var p = requests.publish(key, req.content().array(), format, secret, comment, keep, author);
    ConfigRequests.ifMatch(ifMatch).ifPresent(p::setIfVersion);
    return commandLog.submit(Command.newBuilder().setPublishConfig(p).build())
        .thenApply(r -> Json.ok(Json.object().put("version", r.getConfigVersion().getVersion())));
  }

  public HttpResponse get(ServiceRequestContext ctx, String ns, String group, String name, Optional<String> version,
      Optional<String> index, Optional<String> wait, Optional<String> clientId, Optional<String> labels) {
    ConfigKey key = requests.key(ns, group, name);
    clientId.ifPresent(c -> Validation.name("clientId", c));
    Reader reader = new Reader(clientId.orElse(""), ctx.clientAddress().getHostAddress(),
        labels.map(GrayRestService::parseLabels).orElse(Map.of()));
    if (version.isPresent()) {
      long n = ConfigRequests.number("version", version.get());
      ConfigView v = requests.require(key);
      ConfigVersion c = v.find(n);
      if (c == null) {
        throw new LodestarException(LodestarException.Code.NOT_FOUND, "version " + n + " of " + key
            + " is not kept (the history keeps the last " + v.historyLimit() + ")", "version");
      }
      return content(v, c);
    }
    Duration w = wait.map(NamingRestService::parseWait).orElse(DEFAULT_WAIT); // checked even without index
    if (index.isEmpty()) {
      return current(key, reader, -1);
    }
    long since = ConfigRequests.number("index", index.get());
    CompletableFuture<Void> next = watchers.next(key, ctx.clientAddress());
    if (versionFor(key, reader) > since) {
      next.cancel(false);
      return current(key, reader, since);
    }
    ctx.setRequestTimeout(w.plusSeconds(10));
    CompletableFuture<HttpResponse> resp = new CompletableFuture<>();
    // Woken by the next change or by the end of the wait; either way answer from the current state.
    next.orTimeout(w.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((x, e) -> resp.complete(current(key, reader, since)));
    return HttpResponse.of(resp);
  }

  public HttpResponse history(String ns, String group, String name) {
    return Json.ok(ConfigJson.history(requests.require(requests.key(ns, group, name))));
  }

  public CompletableFuture<HttpResponse> rollback(String ns, String group, String name, Optional<String> author,
      Optional<String> ifMatch, AggregatedHttpRequest req) {
    ConfigKey key = requests.key(ns, group, name);
    JsonNode body = Json.parseObject(req);
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!f.equals("toVersion") && !f.equals("comment")) {
        throw LodestarException.invalid(f, "unknown field '" + f + "'");
      }
    }
    JsonNode to = body.get("toVersion");
    if (to == null || !to.isIntegralNumber() || !to.canConvertToLong() || to.asLong() < 1) {
      throw LodestarException.invalid("toVersion", "toVersion must be a version number (1 or more)");
    }
    JsonNode comment = body.get("comment");
    if (comment != null && !comment.isTextual()) {
      throw LodestarException.invalid("comment", "comment must be a string");
    }
    RollbackConfig.Builder r = RollbackConfig.newBuilder().setNamespace(ns).setGroup(group).setName(name)
        .setToVersion(to.asLong()).setComment(comment == null ? "" : comment.asText())
        .setAuthor(author.orElse(ConfigRequests.ANONYMOUS));
    ConfigRequests.ifMatch(ifMatch).ifPresent(r::setIfVersion);
    requests.require(key);
    return commandLog.submit(Command.newBuilder().setRollbackConfig(r).build())
        .thenApply(res -> Json.ok(Json.object().put("version", res.getConfigVersion().getVersion())
            .put("rollbackOf", res.getConfigVersion().getRollbackOf())));
  }

  public CompletableFuture<HttpResponse> delete(String ns, String group, String name, Optional<String> ifMatch) {
    requests.key(ns, group, name);
    DeleteConfig.Builder d = DeleteConfig.newBuilder().setNamespace(ns).setGroup(group).setName(name);
    ConfigRequests.ifMatch(ifMatch).ifPresent(d::setIfVersion);
    return commandLog.submit(Command.newBuilder().setDeleteConfig(d).build())
        .thenApply(r -> Json.ok(Json.object().put("deleted", name).put("version", r.getConfigVersion().getVersion())));
  }

  // ------------------------------------------------------------------ reads

  /** Who is reading: a REST reader may name itself and give labels to take part in gray releases. */
  record Reader(String clientId, String address, Map<String, String> labels) {}

  private long versionFor(ConfigKey key, Reader r) {
    ConfigView v = store.viewOrTombstone(key);
    if (v == null) {
      return 0;
    }
    return v.deleted() ? v.version() : v.versionFor(r.clientId(), r.address(), r.labels()).getVersion();
  }

  /** The reader's version now; 304 when it is still not above {@code since} (a long poll that timed out). */
  private HttpResponse current(ConfigKey key, Reader reader, long since) {
    ConfigView v = store.view(key);
    if (v == null) {
      if (since >= 0 && versionFor(key, reader) <= since) {
        return notModified(versionFor(key, reader));
      }
      throw LodestarException.notFound("config " + key + " does not exist");
    }
    ConfigVersion c = v.versionFor(reader.clientId(), reader.address(), reader.labels());
    if (c.getVersion() <= since) {
      return notModified(c.getVersion());
    }
    if (!reader.clientId().isEmpty()) {
      clients.record(key, new ConfigClients.Holder(reader.clientId(), reader.address(), c.getVersion(),
          v.candidate() == c, "rest", System.currentTimeMillis()));
    }
    return content(v, c);
  }

  private HttpResponse content(ConfigView v, ConfigVersion c) {
    // a secret is decrypted only for a token with secrets:NS (or with auth off); others get the mask
    boolean masked = v.secret() && !authorizer.allows(io.lodestar.server.auth.Authorizer.current(),
        io.lodestar.core.auth.Policy.Action.SECRETS, v.key().namespace());
    byte[] plain = masked ? ConfigJson.MASK.getBytes(java.nio.charset.StandardCharsets.UTF_8)
        : secrets.plaintext(v.key(), v.secret(), c);
    ResponseHeadersBuilder h = ResponseHeaders.builder(HttpStatus.OK).contentType(ConfigFormats.mediaType(c.getFormat()))
        .add(VERSION_HEADER, Long.toString(c.getVersion())).add(HASH_HEADER, c.getHash())
        .add("ETag", "\"" + c.getVersion() + "\"");
    if (v.candidate() == c) {
      h.add(GRAY_HEADER, "true");
    }
    if (masked) {
      h.add(MASKED_HEADER, "true");
    }
    return HttpResponse.of(h.build(), HttpData.wrap(plain));
  }

  private static HttpResponse notModified(long version) {
    return HttpResponse.of(ResponseHeaders.builder(HttpStatus.NOT_MODIFIED)
        .add(VERSION_HEADER, Long.toString(version)).build());
  }
}
