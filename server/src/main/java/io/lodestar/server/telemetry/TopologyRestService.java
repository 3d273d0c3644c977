package io.lodestar.server.telemetry;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.EdgeSeries;
import io.lodestar.api.v1.EdgeSeriesList;
import io.lodestar.api.v1.EdgeSlot;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.QueryParams;
import io.lodestar.server.http.Routes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live topology over REST (docs/observability.md): {@code GET /v1/namespaces/{ns}/topology}
 * (services with their instances and health; edges with rps, error rate, p50/p99/p999) and
 * {@code GET /v1/namespaces/{ns}/services/{svc}/calls} (a service's callees per instance and
 * method with latency over time, and its callers), both over {@code ?window=} (default 5m, from
 * 10s to the retention). In a cluster each answer merges every node's statistics
 * ({@link ClusterTelemetry}); {@code GET /v1/internal/telemetry/{ns}} is the node-to-node part.
 */
public final class TopologyRestService implements Routes.Owner {
  static final String DEFAULT_WINDOW = "5m";
  private static final Pattern WINDOW = Pattern.compile("([1-9][0-9]{0,6})(s|m|h)");

  private final Registry registry;
  private final CallStatsStore store;
  private final ClusterTelemetry cluster;

  public TopologyRestService(Registry registry, CallStatsStore store, ClusterTelemetry cluster) {
    this.registry = registry;
    this.store = store;
    this.cluster = cluster;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/namespaces/{ns}/topology", "topology",
        c -> topology(c.ctx(), c.path("ns"), c.optional("window")));
    routes.get("/v1/namespaces/{ns}/services/{svc}/calls", "calls",
        c -> calls(c.ctx(), c.path("ns"), c.path("svc"), c.optional("window")));
    routes.get("/v1/internal/telemetry/{ns}", "internal", c -> internal(c.path("ns"), c.optional("windowMs")));
  }

  public CompletableFuture<HttpResponse> topology(ServiceRequestContext ctx, String ns,
      Optional<String> windowParam) {
    registry.requireNamespace(ns); // 404, as everywhere: an empty 200 would read as "no traffic"
    String window = windowParam.orElse(DEFAULT_WINDOW);
    long windowMs = windowMillis(window);
    return cluster.gather(ns, windowMs, authorization(ctx)).thenApply(g -> {
      Map<List<String>, EdgeAggregate> edges = new TreeMap<>(KEY_ORDER);
      for (EdgeSeriesList part : g.parts()) {
        for (EdgeSeries e : part.getEdgesList()) {
          if (!e.getNamespace().equals(ns) && !e.getCallerNamespace().equals(ns)) {
            continue;
          }
          EdgeAggregate a = edges.computeIfAbsent(
              List.of(e.getCallerNamespace(), e.getCaller(), e.getNamespace(), e.getService()),
              k -> new EdgeAggregate(false));
          e.getSlotsList().forEach(a::add);
        }
      }
      ObjectNode o = header(ns, window, windowMs, g);
      Map<List<String>, ObjectNode> nodes = new LinkedHashMap<>();
      for (ServiceView v : registry.views(ns)) {
        node(nodes, ns, v.key().service());
      }
      ArrayNode arr = Json.MAPPER.createArrayNode();
      for (Map.Entry<List<String>, EdgeAggregate> e : edges.entrySet()) {
        List<String> k = e.getKey();
        node(nodes, k.get(0), k.get(1));
        node(nodes, k.get(2), k.get(3));
        ObjectNode edge = arr.addObject();
        edge.put("callerNamespace", k.get(0));
        edge.put("caller", k.get(1));
        edge.put("namespace", k.get(2));
        edge.put("service", k.get(3));
        e.getValue().writeTo(edge, windowMs / 1000.0);
      }
      o.putArray("nodes").addAll(nodes.values());
      o.set("edges", arr);
      return Json.ok(o);
    });
  }

  public CompletableFuture<HttpResponse> calls(ServiceRequestContext ctx, String ns, String svc,
      Optional<String> windowParam) {
    registry.requireNamespace(ns);
    Validation.name("service", svc);
    String window = windowParam.orElse(DEFAULT_WINDOW);
    long windowMs = windowMillis(window);
    return cluster.gather(ns, windowMs, authorization(ctx)).thenApply(g -> {
      // callee → (aggregate, instance → (aggregate, method → aggregate))
      Map<List<String>, Callee> callees = new TreeMap<>(KEY_ORDER);
      Map<List<String>, EdgeAggregate> callers = new TreeMap<>(KEY_ORDER);
      for (EdgeSeriesList part : g.parts()) {
        for (EdgeSeries e : part.getEdgesList()) {
          if (e.getCallerNamespace().equals(ns) && e.getCaller().equals(svc)) {
            Callee c = callees.computeIfAbsent(List.of(e.getNamespace(), e.getService()), k -> new Callee());
            for (EdgeSlot s : e.getSlotsList()) {
              c.add(e.getInstanceId(), e.getMethod(), s);
            }
          }
          if (e.getNamespace().equals(ns) && e.getService().equals(svc)) {
            EdgeAggregate a = callers.computeIfAbsent(List.of(e.getCallerNamespace(), e.getCaller()),
                k -> new EdgeAggregate(true));
            e.getSlotsList().forEach(a::add);
          }
        }
      }
      double seconds = windowMs / 1000.0;
      ObjectNode o = header(ns, window, windowMs, g);
      o.put("service", svc);
      ArrayNode out = o.putArray("callees");
      for (Map.Entry<List<String>, Callee> e : callees.entrySet()) {
        ObjectNode c = out.addObject();
        c.put("namespace", e.getKey().get(0));
        c.put("service", e.getKey().get(1));
        e.getValue().total.writeTo(c, seconds);
        ArrayNode insts = c.putArray("instances");
        for (Map.Entry<String, Instance> i : e.getValue().instances.entrySet()) {
          ObjectNode io = insts.addObject();
          io.put("instance", i.getKey());
          i.getValue().total.writeTo(io, seconds);
          ArrayNode methods = io.putArray("methods");
          for (Map.Entry<String, EdgeAggregate> m : i.getValue().methods.entrySet()) {
            ObjectNode mo = methods.addObject();
            mo.put("method", m.getKey());
            m.getValue().writeTo(mo, seconds);
          }
        }
      }
      ArrayNode in = o.putArray("callers");
      for (Map.Entry<List<String>, EdgeAggregate> e : callers.entrySet()) {
        ObjectNode c = in.addObject();
        c.put("namespace", e.getKey().get(0));
        c.put("caller", e.getKey().get(1));
        e.getValue().writeTo(c, seconds);
      }
      return Json.ok(o);
    });
  }

  /** Node to node: this node's own slots of a namespace, protobuf {@code EdgeSeriesList}. */
  public HttpResponse internal(String ns, Optional<String> windowMsParam) {
    Validation.name("namespace", ns);
    long windowMs = Math.min(QueryParams.number("windowMs", windowMsParam, 300_000), store.retentionMs());
    return HttpResponse.of(HttpStatus.OK, MediaType.PROTOBUF, store.local(ns, windowMs).toByteArray());
  }

  private ObjectNode header(String ns, String window, long windowMs, ClusterTelemetry.Gathered g) {
    ObjectNode o = Json.object();
    o.put("namespace", ns);
    o.put("window", window);
    o.put("windowSeconds", windowMs / 1000);
    long dropped = 0;
    for (EdgeSeriesList p : g.parts()) {
      dropped += p.getDroppedEdges();
    }
    o.put("droppedEdges", dropped);
    o.put("partial", !g.unreachable().isEmpty());
    ArrayNode un = o.putArray("unreachable");
    g.unreachable().forEach(un::add);
    return o;
  }

  private void node(Map<List<String>, ObjectNode> nodes, String ns, String svc) {
    nodes.computeIfAbsent(List.of(ns, svc), k -> {
      ObjectNode n = Json.object();
      n.put("namespace", ns);
      n.put("service", svc);
      ServiceView v = svc.isEmpty() ? null : registry.view(ns, svc);
      int total = v == null ? 0 : v.instances().size();
      long healthy = v == null ? 0 : v.healthyCount();
      n.put("instances", total);
      n.put("healthyInstances", healthy);
      n.put("health", v == null ? "unknown" : total == 0 ? "empty" : healthy == total ? "healthy"
          : healthy == 0 ? "down" : "degraded");
      return n;
    });
  }

  /** {@code 30s}, {@code 5m}, {@code 1h}: from one slot (10 s) to the retention. */
  long windowMillis(String window) {
    Matcher m = WINDOW.matcher(window);
    if (!m.matches()) {
      throw LodestarException.invalid("window", "window must be a number and a unit (s, m or h), like 5m; got '"
          + window + "'");
    }
    long n = Long.parseLong(m.group(1));
    long ms = switch (m.group(2)) {
      case "s" -> n * 1_000;
      case "m" -> n * 60_000;
      default -> n * 3_600_000;
    };
    if (ms < CallStatsStore.SLOT_MS || ms > store.retentionMs()) {
      throw LodestarException.invalid("window", "window must be from 10s to the retention ("
          + store.retentionMs() / 60_000 + "m); got " + window);
    }
    return ms;
  }

  /** The headers that carry a token (docs/security.md), to be sent on to the other nodes. */
  private static Map<String, String> authorization(ServiceRequestContext ctx) {
    Map<String, String> out = new LinkedHashMap<>();
    for (var name : List.of(HttpHeaderNames.AUTHORIZATION, com.linecorp.armeria.common.HttpHeaderNames.of("x-lodestar-token"))) {
      String v = ctx.request().headers().get(name);
      if (v != null) {
        out.put(name.toString(), v);
      }
    }
    return out;
  }

  private static final java.util.Comparator<List<String>> KEY_ORDER = (a, b) -> {
    for (int i = 0; i < a.size(); i++) {
      int c = a.get(i).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  };

  /** One callee of the service: totals with latency over time, and per instance and method. */
  private static final class Callee {
    final EdgeAggregate total = new EdgeAggregate(true);
    final Map<String, Instance> instances = new TreeMap<>();

    void add(String instance, String method, EdgeSlot s) {
      total.add(s);
      Instance i = instances.computeIfAbsent(instance, k -> new Instance());
      i.total.add(s);
      i.methods.computeIfAbsent(method, k -> new EdgeAggregate(false)).add(s);
    }
  }

  private static final class Instance {
    final EdgeAggregate total = new EdgeAggregate(false);
    final Map<String, EdgeAggregate> methods = new TreeMap<>();
  }
}
