package io.lodestar.server.naming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateNamespace;
import io.lodestar.api.v1.state.DeleteNamespace;
import io.lodestar.api.v1.state.DeleteService;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.LongPolls;
import io.lodestar.server.http.QueryParams;
import io.lodestar.server.http.Routes;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import io.lodestar.server.storage.CommandLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The naming REST API under /v1/namespaces. Paths are a public contract (docs/api.md). */
public final class NamingRestService implements Routes.Owner {
  private static final Logger log = LoggerFactory.getLogger(NamingRestService.class);
  static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);
  static final Duration MAX_WAIT = Duration.ofMinutes(10);
  public static final String INDEX_HEADER = "X-Lodestar-Index";

  private final Registry registry;
  private final CommandLog commandLog;
  private final HealthChecker health;
  private final LongPolls<ServiceKey> watchers;
  private final Counter registrations;
  private final Map<ServiceKey, Rendered> renderedAll = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<ServiceKey, Rendered> renderedHealthy = new java.util.concurrent.ConcurrentHashMap<>();

  public NamingRestService(Registry registry, CommandLog commandLog, HealthChecker health, Executor notifier,
      MeterRegistry meters) {
    this(registry, commandLog, health, notifier, meters, LongPolls.DEFAULT_MAX_PER_CLIENT);
  }

  public NamingRestService(Registry registry, CommandLog commandLog, HealthChecker health, Executor notifier,
      MeterRegistry meters, int maxLongPollsPerClient) {
    this.registry = registry;
    this.commandLog = commandLog;
    this.health = health;
    this.watchers = new LongPolls<>(notifier, maxLongPollsPerClient);
    registry.addListener(change -> watchers.wake(change.key()));
    meters.gauge("lodestar.longpoll.keys", java.util.List.of(io.micrometer.core.instrument.Tag.of("api", "naming")),
        watchers, LongPolls::keys);
    this.registrations = Counter.builder("lodestar.registrations").tag("api", "rest")
        .description("instance registrations accepted").register(meters);
  }

  // ------------------------------------------------------------------ namespaces

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/namespaces", "listNamespaces", c -> listNamespaces());
    routes.post("/v1/namespaces", "createNamespace", c -> createNamespace(c.request()));
    routes.post("/v1/namespaces/{ns}", "createNamespaceAt", c -> createNamespaceAt(c.path("ns"), c.request()));
    routes.get("/v1/namespaces/{ns}", "getNamespace", c -> getNamespace(c.path("ns")));
    routes.delete("/v1/namespaces/{ns}", "deleteNamespace", c -> deleteNamespace(c.path("ns")));
    routes.get("/v1/namespaces/{ns}/services", "listServices", c -> listServices(c.path("ns")));
    routes.get("/v1/namespaces/{ns}/services/{svc}", "getService", c -> getService(c.path("ns"), c.path("svc")));
    routes.put("/v1/namespaces/{ns}/services/{svc}", "putService",
        c -> putService(c.path("ns"), c.path("svc"), c.request()));
    routes.delete("/v1/namespaces/{ns}/services/{svc}", "deleteService",
        c -> deleteService(c.path("ns"), c.path("svc")));
    routes.post("/v1/namespaces/{ns}/services/{svc}/instances", "register",
        c -> register(c.path("ns"), c.path("svc"), c.request()));
    routes.put("/v1/namespaces/{ns}/services/{svc}/instances/{id}/heartbeat", "heartbeat",
        c -> heartbeat(c.path("ns"), c.path("svc"), c.path("id")));
    routes.patch("/v1/namespaces/{ns}/services/{svc}/instances/{id}", "update",
        c -> update(c.path("ns"), c.path("svc"), c.path("id"), c.request()));
    routes.delete("/v1/namespaces/{ns}/services/{svc}/instances/{id}", "deregister",
        c -> deregister(c.path("ns"), c.path("svc"), c.path("id")));
    routes.get("/v1/namespaces/{ns}/services/{svc}/instances", "instances",
        c -> instances(c.ctx(), c.path("ns"), c.path("svc"), c.optional("healthy"), c.optional("index"),
            c.optional("wait")));
  }

  public HttpResponse listNamespaces() {
    ObjectNode root = Json.object();
    ArrayNode arr = root.putArray("namespaces");
    registry.namespaces().forEach(n -> arr.add(InstanceJson.toJson(n)));
    return Json.ok(root);
  }

  public CompletableFuture<HttpResponse> createNamespace(AggregatedHttpRequest req) {
    JsonNode body = Json.parseObject(req);
    Json.onlyFields(body, "", java.util.Set.of("name", "description"));
    String name = InstanceJson.text(body, "name", true);
    String description = InstanceJson.text(body, "description", false);
    return createNamespace(name, description);
  }

  public CompletableFuture<HttpResponse> createNamespaceAt(String ns, AggregatedHttpRequest req) {
    String description = null;
    if (!req.content().isEmpty()) {
      JsonNode body = Json.parseObject(req);
      Json.onlyFields(body, "", java.util.Set.of("description"));
      description = InstanceJson.text(body, "description", false);
    }
    return createNamespace(ns, description);
  }

  private CompletableFuture<HttpResponse> createNamespace(String name, String description) {
    Validation.name("name", name);
    if (description != null && description.length() > 1024) {
      throw LodestarException.invalid("description", "description must have at most 1024 characters");
    }
    return commandLog.submit(Command.newBuilder().setCreateNamespace(CreateNamespace.newBuilder().setName(name)
        .setDescription(description == null ? "" : description)).build())
        .thenApply(r -> Json.respond(HttpStatus.CREATED, InstanceJson.toJson(r.getNamespace())));
  }

  public HttpResponse getNamespace(String ns) {
    Namespace n = registry.requireNamespace(ns);
    ObjectNode o = InstanceJson.toJson(n);
    o.put("services", registry.serviceCount(ns));
    return Json.ok(o);
  }

  public CompletableFuture<HttpResponse> deleteNamespace(String ns) {
    Validation.name("namespace", ns);
    return commandLog.submit(Command.newBuilder().setDeleteNamespace(DeleteNamespace.newBuilder().setName(ns))
        .build()).thenApply(r -> Json.ok(Json.object().put("deleted", ns)));
  }

  // ------------------------------------------------------------------ services

  public HttpResponse listServices(String ns) {
    registry.requireNamespace(ns);
    ObjectNode root = Json.object();
    ArrayNode arr = root.putArray("services");
    for (ServiceView v : registry.views(ns)) {
      ObjectNode o = arr.addObject();
      o.put("name", v.key().service());
      o.put("instances", v.instances().size());
      o.put("healthy", v.healthyCount());
      o.put("revision", v.revision());
      ObjectNode md = o.putObject("metadata");
      new java.util.TreeMap<>(v.info().getMetadataMap()).forEach(md::put);
    }
    return Json.ok(root);
  }

  public HttpResponse getService(String ns, String svc) {
    ServiceView v = registry.requireView(ns, svc);
    ObjectNode o = InstanceJson.toJson(v.info());
    o.put("instances", v.instances().size());
    o.put("healthy", v.healthyCount());
    return Json.ok(o);
  }

  public CompletableFuture<HttpResponse> putService(String ns, String svc, AggregatedHttpRequest req) {
    Validation.name("namespace", ns);
    Validation.name("service", svc);
    JsonNode body = req.content().isEmpty() ? Json.object() : Json.parseObject(req);
    PutService p = InstanceJson.parseService(body, ns, svc);
    return commandLog.submit(Command.newBuilder().setPutService(p).build())
        .thenApply(r -> Json.ok(InstanceJson.toJson(r.getService())));
  }

  public CompletableFuture<HttpResponse> deleteService(String ns, String svc) {
    Validation.name("namespace", ns);
    Validation.name("service", svc);
    return commandLog.submit(Command.newBuilder().setDeleteService(DeleteService.newBuilder().setNamespace(ns)
        .setName(svc)).build()).thenApply(r -> Json.ok(Json.object().put("deleted", svc)));
  }

  // ------------------------------------------------------------------ instances

  public CompletableFuture<HttpResponse> register(String ns, String svc, AggregatedHttpRequest req) {
    Validation.name("namespace", ns);
    Validation.name("service", svc);
    Instance spec = InstanceJson.parseRegistration(Json.parseObject(req), ns, svc);
    Registry.validateInstance(spec);
    if (spec.getEphemeral()) {
      spec = spec.toBuilder().setLeaseHolder(health.localId()).build(); // its heartbeats come here
    }
    return commandLog.submit(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder()
        .setInstance(spec)).build()).thenApply(r -> {
          Instance stored = r.getInstance();
          health.renew(InstanceKey.of(stored));
          registrations.increment();
          return Json.respond(HttpStatus.CREATED, InstanceJson.toJson(stored));
        });
  }

  public CompletableFuture<HttpResponse> heartbeat(String ns, String svc, String id) {
    Validation.name("namespace", ns);
    Validation.name("service", svc);
    Validation.name("id", id);
    InstanceKey key = new InstanceKey(new ServiceKey(ns, svc), id);
    HttpResponse ok = Json.ok(Json.object().put("id", id).put("ok", true));
    if (!health.renew(key)) {
      ServiceView v = registry.view(ns, svc);
      Instance i = v == null ? null : find(v, id);
      if (i != null && !i.getEphemeral()) {
        throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
            "instance " + id + " is persistent: the server probes it, it does not heartbeat", "id");
      }
      if (i == null) {
        throw LodestarException.notFound("instance " + id + " of " + ns + "/" + svc + " is not registered");
      }
      // Cluster: its lease is held by another node (the client moved here): take the lease over.
      Instance claim = i.toBuilder().setLeaseHolder(health.localId()).clearRevision().clearHealth()
          .clearRegisteredAtMs().build();
      return commandLog.submit(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder()
          .setInstance(claim)).build()).thenApply(r -> {
            health.renew(key);
            return ok;
          });
    }
    return CompletableFuture.completedFuture(ok);
  }

  /** An operator's change: weight and/or isolation (out of discovery, still registered). */
  public CompletableFuture<HttpResponse> update(String ns, String svc, String id, AggregatedHttpRequest req) {
    Validation.name("namespace", ns);
    Validation.name("service", svc);
    Validation.name("id", id);
    var update = InstanceJson.parseUpdate(Json.parseObject(req), ns, svc, id);
    return commandLog.submit(Command.newBuilder().setUpdateInstance(update).build()).thenApply(r -> {
      Instance i = r.getInstance();
      log.info("instance {} of {}/{} updated: weight {}{}, isolated {}", id, ns, svc, i.getWeight(),
          i.hasRegisteredWeight() ? " (the operator's; registered " + i.getRegisteredWeight() + ")" : "",
          i.getIsolated());
      return Json.ok(InstanceJson.toJson(i));
    });
  }

  public CompletableFuture<HttpResponse> deregister(String ns, String svc, String id) {
    Validation.name("namespace", ns);
    Validation.name("service", svc);
    Validation.name("id", id);
    return commandLog.submit(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder()
        .setNamespace(ns).setService(svc).setId(id)).build())
        .thenApply(r -> Json.ok(Json.object().put("deregistered", id)));
  }

  public HttpResponse instances(ServiceRequestContext ctx, String ns, String svc, Optional<String> healthy,
      Optional<String> index, Optional<String> wait) {
    Validation.name("service", svc);
    registry.requireNamespace(ns);
    boolean healthyOnly = QueryParams.bool("healthy", healthy, false);
    ServiceKey key = new ServiceKey(ns, svc);
    Duration w = wait.map(NamingRestService::parseWait).orElse(DEFAULT_WAIT); // checked even without index
    if (index.isEmpty()) {
      return render(key, healthyOnly);
    }
    long since = QueryParams.number("index", index.get());
    CompletableFuture<Void> next = watchers.next(key, ctx.clientAddress());
    if (revisionOf(key) > since) {
      next.cancel(false);
      return render(key, healthyOnly);
    }
    ctx.setRequestTimeout(w.plusSeconds(10));
    CompletableFuture<HttpResponse> resp = new CompletableFuture<>();
    // Woken by the next change or by the end of the wait; either way answer with the current state.
    next.orTimeout(w.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> resp.complete(render(key, healthyOnly)));
    return HttpResponse.of(resp);
  }

  private long revisionOf(ServiceKey key) {
    ServiceView v = registry.view(key.namespace(), key.service());
    return v == null ? 0 : v.revision();
  }

  private HttpResponse render(ServiceKey key, boolean healthyOnly) {
    ServiceView v = registry.view(key.namespace(), key.service());
    Map<ServiceKey, Rendered> cache = healthyOnly ? renderedHealthy : renderedAll;
    if (v == null) {
      cache.remove(key);
    } else {
      Rendered r = cache.get(key);
      if (r != null && r.view() == v) {
        return HttpResponse.of(r.headers(), HttpData.wrap(r.body()));
      }
    }
    ObjectNode root = Json.object();
    long rev = v == null ? 0 : v.revision();
    root.put("revision", rev);
    ArrayNode arr;
    if (v == null) {
      root.put("protectionApplied", false);
      arr = root.putArray("instances");
    } else if (healthyOnly) {
      ServiceView.Selection sel = v.healthy();
      root.put("protectionApplied", sel.protectionApplied());
      arr = root.putArray("instances");
      sel.instances().forEach(i -> arr.add(InstanceJson.toJson(i)));
    } else {
      root.put("protectionApplied", false);
      arr = root.putArray("instances");
      v.instances().forEach(i -> arr.add(InstanceJson.toJson(i)));
    }
    ResponseHeaders headers = ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON_UTF_8)
        .add(INDEX_HEADER, Long.toString(rev)).build();
    byte[] body = root.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (v != null) {
      cache.put(key, new Rendered(v, headers, body));
    }
    return HttpResponse.of(headers, HttpData.wrap(body));
  }

  /**
   * A service's last rendered list. Views are immutable and replaced on every change, so a body
   * rendered from the current view is current: reads of an unchanged service cost no JSON work.
   */
  private record Rendered(ServiceView view, ResponseHeaders headers, byte[] body) {}

  // ------------------------------------------------------------------ helpers


  private static Instance find(ServiceView v, String id) {
    for (Instance i : v.instances()) {
      if (i.getId().equals(id)) {
        return i;
      }
    }
    return null;
  }

  private static final java.util.regex.Pattern WAIT = java.util.regex.Pattern.compile("([0-9]{1,40})(ms|s|m)?");

  /**
   * "30s", "500ms", "2m" or a plain number of seconds; anything longer than 10 minutes (however
   * long: the number may not even fit a long) waits 10 minutes. Anything else is refused.
   */
  public static Duration parseWait(String v) {
    java.util.regex.Matcher m = WAIT.matcher(v);
    if (!m.matches()) {
      throw LodestarException.invalid("wait", "wait must look like 30s, 500ms or 2m");
    }
    java.math.BigInteger n = new java.math.BigInteger(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    long perUnitMs = switch (unit) {
      case "ms" -> 1;
      case "m" -> 60_000;
      default -> 1000;
    };
    java.math.BigInteger ms = n.multiply(java.math.BigInteger.valueOf(perUnitMs));
    return ms.compareTo(java.math.BigInteger.valueOf(MAX_WAIT.toMillis())) > 0 ? MAX_WAIT
        : Duration.ofMillis(ms.longValueExact());
  }
}
