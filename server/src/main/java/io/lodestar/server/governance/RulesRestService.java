package io.lodestar.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteRules;
import io.lodestar.api.v1.state.PutRules;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.governance.RuleKind;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.QueryParams;
import io.lodestar.server.http.Routes;
import java.util.Optional;
import io.lodestar.server.storage.CommandLog;
import java.util.concurrent.CompletableFuture;

/**
 * Governance rules over REST: {@code /v1/namespaces/{ns}/services/{svc}/rules/{kind}} for a
 * service, {@code /v1/namespaces/{ns}/rules/{kind}} for a namespace's defaults. Writes go through
 * the command log like every other write; validation happens before logging, so a bad rule gets a
 * 400 naming its field and nothing is stored. {@code ?version=N} on a put or delete makes it
 * conditional (409 unless N is the current version).
 */
public final class RulesRestService implements Routes.Owner {
  private final Registry registry;
  private final CommandLog commandLog;

  public RulesRestService(Registry registry, CommandLog commandLog) {
    this.registry = registry;
    this.commandLog = commandLog;
  }

  // ------------------------------------------------------------------ service rules

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/namespaces/{ns}/services/{svc}/rules", "getServiceRules",
        c -> getServiceRules(c.path("ns"), c.path("svc")));
    routes.get("/v1/namespaces/{ns}/services/{svc}/rules/{kind}", "getServiceRule",
        c -> getServiceRule(c.path("ns"), c.path("svc"), c.path("kind"), c.optional("effective")));
    routes.put("/v1/namespaces/{ns}/services/{svc}/rules/{kind}", "putServiceRule",
        c -> putServiceRule(c.path("ns"), c.path("svc"), c.path("kind"), c.optional("version"), c.request()));
    routes.delete("/v1/namespaces/{ns}/services/{svc}/rules/{kind}", "deleteServiceRule",
        c -> deleteServiceRule(c.path("ns"), c.path("svc"), c.path("kind"), c.optional("version")));
    routes.get("/v1/namespaces/{ns}/rules", "getNamespaceRules", c -> getNamespaceRules(c.path("ns")));
    routes.get("/v1/namespaces/{ns}/rules/{kind}", "getNamespaceRule",
        c -> getNamespaceRule(c.path("ns"), c.path("kind")));
    routes.put("/v1/namespaces/{ns}/rules/{kind}", "putNamespaceRule",
        c -> putNamespaceRule(c.path("ns"), c.path("kind"), c.optional("version"), c.request()));
    routes.delete("/v1/namespaces/{ns}/rules/{kind}", "deleteNamespaceRule",
        c -> deleteNamespaceRule(c.path("ns"), c.path("kind"), c.optional("version")));
  }

  public HttpResponse getServiceRules(String ns, String svc) {
    ServiceView v = registry.requireView(ns, svc);
    ObjectNode o = Json.object();
    o.put("namespace", ns);
    o.put("service", svc);
    o.put("revision", v.revision());
    o.set("rules", RuleJson.tree(registry.ownRules(ns, svc)));
    o.set("effective", RuleJson.tree(v.info().getRules()));
    return Json.ok(o);
  }

  public HttpResponse getServiceRule(String ns, String svc, String kind, Optional<String> effectiveParam) {
    boolean effective = QueryParams.bool("effective", effectiveParam, false);
    RuleKind k = RuleKind.parse("kind", kind);
    ServiceView v = registry.requireView(ns, svc);
    GovernanceRules rules = effective ? v.info().getRules() : registry.ownRules(ns, svc);
    return kindOr404(k, rules, "service " + ns + "/" + svc);
  }

  public CompletableFuture<HttpResponse> putServiceRule(String ns, String svc, String kind,
      Optional<String> versionParam, AggregatedHttpRequest req) {
    long version = QueryParams.number("version", versionParam, 0);
    Validation.name("service", svc);
    return put(ns, svc, kind, version, req);
  }

  public CompletableFuture<HttpResponse> deleteServiceRule(String ns, String svc, String kind,
      Optional<String> versionParam) {
    long version = QueryParams.number("version", versionParam, 0);
    Validation.name("service", svc);
    return delete(ns, svc, kind, version);
  }

  // ------------------------------------------------------------------ namespace defaults

  public HttpResponse getNamespaceRules(String ns) {
    Namespace n = registry.requireNamespace(ns);
    ObjectNode o = Json.object();
    o.put("namespace", ns);
    o.set("rules", RuleJson.tree(n.getRules()));
    return Json.ok(o);
  }

  public HttpResponse getNamespaceRule(String ns, String kind) {
    RuleKind k = RuleKind.parse("kind", kind);
    return kindOr404(k, registry.requireNamespace(ns).getRules(), "namespace " + ns);
  }

  public CompletableFuture<HttpResponse> putNamespaceRule(String ns, String kind, Optional<String> versionParam,
      AggregatedHttpRequest req) {
    long version = QueryParams.number("version", versionParam, 0);
    return put(ns, "", kind, version, req);
  }

  public CompletableFuture<HttpResponse> deleteNamespaceRule(String ns, String kind, Optional<String> versionParam) {
    long version = QueryParams.number("version", versionParam, 0);
    return delete(ns, "", kind, version);
  }

  // ------------------------------------------------------------------ shared

  private CompletableFuture<HttpResponse> put(String ns, String svc, String kind, long version,
      AggregatedHttpRequest req) {
    Validation.name("namespace", ns);
    RuleKind k = RuleKind.parse("kind", kind);
    checkVersion(version);
    GovernanceRules rules = RuleJson.parse(k, Json.utf8(req));
    Command cmd = Command.newBuilder().setPutRules(PutRules.newBuilder().setNamespace(ns).setService(svc)
        .setRules(rules).setExpectedVersion(version)).build();
    return commandLog.submit(cmd).thenApply(r -> Json.ok(RuleJson.kind(k, r.getRules())));
  }

  private CompletableFuture<HttpResponse> delete(String ns, String svc, String kind, long version) {
    Validation.name("namespace", ns);
    RuleKind k = RuleKind.parse("kind", kind);
    checkVersion(version);
    Command cmd = Command.newBuilder().setDeleteRules(DeleteRules.newBuilder().setNamespace(ns).setService(svc)
        .setKind(k.wire()).setExpectedVersion(version)).build();
    return commandLog.submit(cmd).thenApply(r -> Json.ok(Json.object().put("deleted", k.wireName())));
  }

  private static void checkVersion(long version) {
    if (version < 0) {
      throw LodestarException.invalid("version", "version must be a positive number");
    }
  }

  private static HttpResponse kindOr404(RuleKind k, GovernanceRules rules, String owner) {
    JsonNode node = RuleJson.kind(k, rules);
    if (node == null) {
      throw LodestarException.notFound(owner + " has no " + k.wireName() + " rule");
    }
    return Json.ok(node);
  }

}
