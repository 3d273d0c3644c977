package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Consul's catalog, health and status reads, with blocking queries. The index of a service's
 * queries is its registry revision (it moves on each change to that service only); the index of
 * {@code catalog/services} moves only when a service appears, goes or changes its tags.
 */
final class ConsulCatalogService implements Routes.Owner {
  private final ConsulDirectory directory;
  private final ConsulNode node;
  private final Supplier<String> leader;
  private final Supplier<List<String>> peers;

  ConsulCatalogService(ConsulDirectory directory, ConsulNode node, Supplier<String> leader,
      Supplier<List<String>> peers) {
    this.directory = directory;
    this.node = node;
    this.leader = leader;
    this.peers = peers;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/catalog/services", "services", c -> services(c.ctx()));
    routes.get("/v1/catalog/service/{name}", "service", c -> service(c.ctx(), c.path("name")));
    routes.get("/v1/health/service/{name}", "health", c -> health(c.ctx(), c.path("name")));
    routes.get("/v1/catalog/nodes", "nodes", c -> nodes());
    routes.get("/v1/catalog/datacenters", "datacenters", c -> datacenters());
    routes.get("/v1/status/leader", "leader", c -> leader());
    routes.get("/v1/status/peers", "peers", c -> peers());
  }

  public HttpResponse services(ServiceRequestContext ctx) {
    String ns = ConsulQuery.namespace(ctx);
    CompletableFuture<Void> ready = Blocking.await(ctx, directory.catalogs, ns, () -> directory.catalogIndex(ns),
        ConsulQuery.index(ctx));
    return HttpResponse.of(ready.thenApply(v -> {
      long index = directory.catalogIndex(ns);  // read before the body: a later change moves it past this
      ObjectNode out = Json.object();
      for (Map.Entry<String, SortedSet<String>> e : directory.catalog(ns).entrySet()) {
        ArrayNode tags = out.putArray(e.getKey());
        e.getValue().forEach(tags::add);
      }
      return ConsulResponses.json(out, index);
    }));
  }

  public HttpResponse service(ServiceRequestContext ctx, String name) {
    ServiceKey key = serviceKey(ctx, name);
    List<String> tags = ctx.queryParams("tag");
    Predicate<JsonNode> filter = ConsulAgentService.filter(ctx, ConsulFilter.CATALOG_FIELDS);
    return HttpResponse.of(blockOn(ctx, key).thenApply(v -> {
      long index = directory.serviceIndex(key);
      ArrayNode out = Json.MAPPER.createArrayNode();
      for (Instance i : directory.instances(key)) {
        if (i.getTagsList().containsAll(tags)) {
          ObjectNode entry = ConsulJson.catalogService(node, i);
          if (filter.test(entry)) {
            out.add(entry);
          }
        }
      }
      return ConsulResponses.json(out, index);
    }));
  }

  public HttpResponse health(ServiceRequestContext ctx, String name) {
    ServiceKey key = serviceKey(ctx, name);
    List<String> tags = ctx.queryParams("tag");
    boolean passing = ConsulQuery.bool(ctx, "passing");
    Predicate<JsonNode> filter = ConsulAgentService.filter(ctx, ConsulFilter.HEALTH_FIELDS);
    return HttpResponse.of(blockOn(ctx, key).thenApply(v -> {
      long index = directory.serviceIndex(key);
      ArrayNode out = Json.MAPPER.createArrayNode();
      for (Instance i : directory.instances(key)) {
        boolean critical = i.getHealth() == HealthStatus.UNHEALTHY || i.getIsolated();
        if ((passing && critical) || !i.getTagsList().containsAll(tags)) {
          continue;
        }
        ObjectNode entry = ConsulJson.healthEntry(node, i);
        if (filter.test(entry)) {
          out.add(entry);
        }
      }
      return ConsulResponses.json(out, index);
    }));
  }

  public HttpResponse nodes() {
    ArrayNode out = Json.MAPPER.createArrayNode();
    ObjectNode n = ConsulJson.node(node);
    n.put("CreateIndex", 1).put("ModifyIndex", 1);
    out.add(n);
    return ConsulResponses.json(out, 1);
  }

  public HttpResponse datacenters() {
    return ConsulResponses.json(Json.MAPPER.createArrayNode().add(node.datacenter()), 1);
  }

  public HttpResponse leader() {
    return ConsulResponses.json(Json.MAPPER.getNodeFactory().textNode(leader.get()), 1);
  }

  public HttpResponse peers() {
    ArrayNode out = Json.MAPPER.createArrayNode();
    peers.get().forEach(out::add);
    return ConsulResponses.json(out, 1);
  }

  private CompletableFuture<Void> blockOn(ServiceRequestContext ctx, ServiceKey key) {
    return Blocking.await(ctx, directory.services, key, () -> directory.serviceIndex(key), ConsulQuery.index(ctx));
  }

  private static ServiceKey serviceKey(ServiceRequestContext ctx, String name) {
    return new ServiceKey(ConsulQuery.namespace(ctx), Validation.name("service", name));
  }
}
