package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.LodestarException;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import io.lodestar.server.naming.HealthChecker;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import io.lodestar.server.storage.CommandLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consul's agent endpoints. The Lodestar server is the agent: a service registered here is an
 * instance in the registry, visible to Lodestar's own API and SDK, and every instance registered
 * through them is visible here.
 */
final class ConsulAgentService implements Routes.Owner {
  private static final Logger log = LoggerFactory.getLogger(ConsulAgentService.class);

  private final Registry registry;
  private final CommandLog commandLog;
  private final HealthChecker health;
  private final ConsulDirectory directory;
  private final ConsulNode node;
  private final Counter registrations;

  ConsulAgentService(Registry registry, CommandLog commandLog, HealthChecker health, ConsulDirectory directory,
      ConsulNode node, MeterRegistry meters) {
    this.registry = registry;
    this.commandLog = commandLog;
    this.health = health;
    this.directory = directory;
    this.node = node;
    this.registrations = Counter.builder("lodestar.registrations").tag("api", "consul")
        .description("instance registrations accepted").register(meters);
  }

  @Override
  public void bind(Routes routes) {
    routes.put("/v1/agent/service/register", "register", c -> register(c.ctx(), c.request()));
    routes.put("/v1/agent/service/deregister/{id}", "deregister", c -> deregister(c.ctx(), c.path("id")));
    routes.put("/v1/agent/check/pass/{checkId}", "pass", c -> pass(c.ctx(), c.path("checkId")));
    routes.put("/v1/agent/check/warn/{checkId}", "warn", c -> warn(c.ctx(), c.path("checkId")));
    routes.put("/v1/agent/check/fail/{checkId}", "fail", c -> fail(c.ctx(), c.path("checkId")));
    routes.put("/v1/agent/check/update/{checkId}", "update", c -> update(c.ctx(), c.path("checkId"), c.request()));
    routes.get("/v1/agent/services", "services", c -> services(c.ctx()));
    routes.get("/v1/agent/service/{id}", "service", c -> service(c.ctx(), c.path("id")));
    routes.get("/v1/agent/checks", "checks", c -> checks(c.ctx()));
    routes.get("/v1/agent/self", "self", c -> self());
  }

  public CompletableFuture<HttpResponse> register(ServiceRequestContext ctx, AggregatedHttpRequest req) {
    String ns = ConsulQuery.namespace(ctx);
    // Consul reads JSON whatever the content type says (ecwid sends text/plain)
    JsonNode body = Json.parseObject(req);
    String caller = ((InetSocketAddress) ctx.remoteAddress()).getAddress().getHostAddress();
    ConsulRegistration.Parsed p = ConsulRegistration.parse(body, ns, caller);
    Instance spec = p.instance();
    if (spec.getEphemeral()) {
      spec = spec.toBuilder().setLeaseHolder(health.localId()).build();  // its check passes come here
    }
    Instance previous = directory.byServiceId(ns, spec.getId());
    CompletableFuture<?> first = CompletableFuture.completedFuture(null);
    if (previous != null && !previous.getService().equals(spec.getService())) {
      // a Consul id names one service on the agent: re-registering it under another name moves it
      first = commandLog.submit(deregister(previous));
    }
    Instance instance = spec;
    return first.thenCompose(v -> commandLog.submit(Command.newBuilder().setRegisterInstance(
        RegisterInstance.newBuilder().setInstance(instance).setInitialHealth(p.initialHealth())).build()))
        .thenApply(r -> {
          Instance stored = r.getInstance();
          if (stored.getEphemeral() && p.initialHealth() == HealthStatus.HEALTHY) {
            health.renew(InstanceKey.of(stored));
          }
          registrations.increment();
          log.info("Consul: registered {}/{} id {} at {}:{} ({})", ns, stored.getService(), stored.getId(),
              stored.getHost(), stored.getPort(), stored.getEphemeral() ? "TTL " + stored.getTtlSeconds() + "s"
                  : stored.hasCheck() ? "probed" : "no check");
          return ConsulResponses.ok();
        });
  }

  public CompletableFuture<HttpResponse> deregister(ServiceRequestContext ctx, String id) {
    String ns = ConsulQuery.namespace(ctx);
    Instance i = directory.byServiceId(ns, id);
    if (i == null) {
      throw LodestarException.notFound("Unknown service ID \"" + id + "\". Ensure that the service ID is passed, "
          + "not the service name.");
    }
    return commandLog.submit(deregister(i)).thenApply(r -> {
      log.info("Consul: deregistered {}/{} id {}", ns, i.getService(), id);
      return ConsulResponses.ok();
    });
  }

  private static Command deregister(Instance i) {
    return Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder().setNamespace(i.getNamespace())
        .setService(i.getService()).setId(i.getId())).build();
  }

  public CompletableFuture<HttpResponse> pass(ServiceRequestContext ctx, String checkId) {
    return report(ctx, checkId, HealthStatus.HEALTHY);
  }

  /** Lodestar has two health states: a warning keeps the instance in service, as passing does. */
  public CompletableFuture<HttpResponse> warn(ServiceRequestContext ctx, String checkId) {
    return report(ctx, checkId, HealthStatus.HEALTHY);
  }

  public CompletableFuture<HttpResponse> fail(ServiceRequestContext ctx, String checkId) {
    return report(ctx, checkId, HealthStatus.UNHEALTHY);
  }

  public CompletableFuture<HttpResponse> update(ServiceRequestContext ctx, String checkId,
      AggregatedHttpRequest req) {
    JsonNode body = Json.parseObject(req);
    JsonNode st = body.get("Status");
    String status = st == null || st.isNull() ? "" : st.asText();
    HealthStatus h = switch (status) {
      case "passing", "warning" -> HealthStatus.HEALTHY;
      case "critical" -> HealthStatus.UNHEALTHY;
      default -> throw LodestarException.invalid("Status", "Invalid check status: \"" + status + "\"");
    };
    return report(ctx, checkId, h);
  }

  private CompletableFuture<HttpResponse> report(ServiceRequestContext ctx, String checkId, HealthStatus status) {
    String ns = ConsulQuery.namespace(ctx);
    Instance i = directory.byCheckId(ns, checkId);
    if (i == null) {
      throw LodestarException.notFound("Unknown check ID \"" + checkId + "\". Ensure that the check ID is passed, "
          + "not the check name.");
    }
    if (!i.getEphemeral()) {
      throw LodestarException.invalid("checkId", "CheckID \"" + checkId + "\" does not have associated TTL");
    }
    InstanceKey key = InstanceKey.of(i);
    return health.report(key, status).thenCompose(held -> {
      if (held) {
        return CompletableFuture.completedFuture(ConsulResponses.ok());
      }
      // Cluster: another node holds the lease (the client moved here): take it over, then report
      Instance claim = i.toBuilder().setLeaseHolder(health.localId()).clearRevision().clearHealth()
          .clearRegisteredAtMs().build();
      return commandLog.submit(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder()
          .setInstance(claim).setInitialHealth(i.getHealth())).build())
          .thenCompose(r -> health.report(key, status)).thenApply(ok -> ConsulResponses.ok());
    });
  }

  public HttpResponse services(ServiceRequestContext ctx) {
    String ns = ConsulQuery.namespace(ctx);
    Predicate<JsonNode> filter = filter(ctx, ConsulFilter.AGENT_SERVICE_FIELDS);
    ObjectNode out = Json.object();
    for (ServiceView v : registry.views(ns)) {
      for (Instance i : v.instances()) {
        ObjectNode s = ConsulJson.agentService(i);
        if (filter.test(s)) {
          out.set(i.getId(), s);
        }
      }
    }
    return ConsulResponses.json(out, registry.revision());
  }

  public HttpResponse service(ServiceRequestContext ctx, String id) {
    Instance i = directory.byServiceId(ConsulQuery.namespace(ctx), id);
    if (i == null) {
      return ConsulResponses.notFound(registry.revision());  // a read: its 404 carries an index too
    }
    return ConsulResponses.json(ConsulJson.agentService(i), i.getRevision());
  }

  public HttpResponse checks(ServiceRequestContext ctx) {
    String ns = ConsulQuery.namespace(ctx);
    Predicate<JsonNode> filter = filter(ctx, ConsulFilter.AGENT_CHECK_FIELDS);
    ObjectNode out = Json.object();
    for (ServiceView v : registry.views(ns)) {
      for (Instance i : v.instances()) {
        if (ConsulJson.hasCheck(i)) {
          ObjectNode c = ConsulJson.check(node, i);
          if (filter.test(c)) {
            out.set(ConsulJson.checkId(i), c);
          }
        }
      }
    }
    return ConsulResponses.json(out, registry.revision());
  }

  public HttpResponse self() {
    ObjectNode root = Json.object();
    ObjectNode config = root.putObject("Config");
    config.put("Datacenter", node.datacenter());
    config.put("NodeName", node.name());
    config.put("NodeID", node.id());
    config.put("Server", true);
    config.put("Revision", "lodestar");
    config.put("Version", ConsulApi.VERSION);
    ObjectNode member = root.putObject("Member");
    member.put("Name", node.name());
    member.put("Addr", node.address());
    member.put("Port", 8301);
    member.put("Status", 1);
    member.putObject("Tags").put("dc", node.datacenter()).put("role", "consul");
    root.putObject("Meta");
    root.putObject("Stats");
    return ConsulResponses.json(root, registry.revision());
  }

  /** The request's {@code filter} over results with these top-level fields ({@link ConsulFilter}). */
  static Predicate<JsonNode> filter(ServiceRequestContext ctx, java.util.Set<String> fields) {
    String f = ctx.queryParam("filter");
    return f == null || f.isBlank() ? n -> true : ConsulFilter.parse(f, fields);
  }
}
