package io.lodestar.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.annotation.Delete;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Put;
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
public final class RulesRestService {
  private final Registry registry;
  private final CommandLog commandLog;

  public RulesRestService(Registry registry, CommandLog commandLog) {
    this.registry = registry;
    this.commandLog = commandLog;
  }

  // ------------------------------------------------------------------ service rules

  @Get("/v1/namespaces/{ns}/services/{svc}/rules")
  public HttpResponse getServiceRules(@Param("ns") String ns, @Param("svc") String svc) {
    ServiceView v = registry.requireView(ns, svc);
    ObjectNode o = Json.object();
    o.put("namespace", ns);
    o.put("service", svc);
    o.put("revision", v.revision());
    o.set("rules", RuleJson.tree(registry.ownRules(ns, svc)));
    o.set("effective", RuleJson.tree(v.info().getRules()));
    return Json.ok(o);
  }

  @Get("/v1/namespaces/{ns}/services/{svc}/rules/{kind}")
  public HttpResponse getServiceRule(@Param("ns") String ns, @Param("svc") String svc, @Param("kind") String kind,
      @Param("effective") Optional<String> effectiveParam) {
    boolean effective = QueryParams.bool("effective", effectiveParam, false);
    RuleKind k = RuleKind.parse("kind", kind);
    ServiceView v = registry.requireView(ns, svc);
    GovernanceRules rules = effective ? v.info().getRules() : registry.ownRules(ns, svc);
    return kindOr404(k, rules, "service " + ns + "/" + svc);
  }

  @Put("/v1/namespaces/{ns}/services/{svc}/rules/{kind}")
  public CompletableFuture<HttpResponse> putServiceRule(@Param("ns") String ns, @Param("svc") String svc,
      @Param("kind") String kind, @Param("version") Optional<String> versionParam, AggregatedHttpRequest req) {
    long version = QueryParams.number("version", versionParam, 0);
    Validation.name("service", svc);
    return put(ns, svc, kind, version, req);
  }

  @Delete("/v1/namespaces/{ns}/services/{svc}/rules/{kind}")
  public CompletableFuture<HttpResponse> deleteServiceRule(@Param("ns") String ns, @Param("svc") String svc,
      @Param("kind") String kind, @Param("version") Optional<String> versionParam) {
    long version = QueryParams.number("version", versionParam, 0);
    Validation.name("service", svc);
    return delete(ns, svc, kind, version);
  }

  // ------------------------------------------------------------------ namespace defaults

  @Get("/v1/namespaces/{ns}/rules")
  public HttpResponse getNamespaceRules(@Param("ns") String ns) {
    Namespace n = registry.requireNamespace(ns);
    ObjectNode o = Json.object();
    o.put("namespace", ns);
    o.set("rules", RuleJson.tree(n.getRules()));
    return Json.ok(o);
  }

  @Get("/v1/namespaces/{ns}/rules/{kind}")
  public HttpResponse getNamespaceRule(@Param("ns") String ns, @Param("kind") String kind) {
    RuleKind k = RuleKind.parse("kind", kind);
    return kindOr404(k, registry.requireNamespace(ns).getRules(), "namespace " + ns);
  }

  @Put("/v1/namespaces/{ns}/rules/{kind}")
  public CompletableFuture<HttpResponse> putNamespaceRule(@Param("ns") String ns, @Param("kind") String kind,
      @Param("version") Optional<String> versionParam, AggregatedHttpRequest req) {
    long version = QueryParams.number("version", versionParam, 0);
    return put(ns, "", kind, version, req);
  }

  @Delete("/v1/namespaces/{ns}/rules/{kind}")
  public CompletableFuture<HttpResponse> deleteNamespaceRule(@Param("ns") String ns, @Param("kind") String kind,
      @Param("version") Optional<String> versionParam) {
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
