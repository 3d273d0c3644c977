package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.core.naming.Registry;
import io.lodestar.server.http.Json;
import java.util.TreeMap;

/** Lodestar's instances in Consul's JSON shapes, with Consul's capitalised field names. */
final class ConsulJson {
  private ConsulJson() {}

  /** The check id a client addresses: the one it gave, else Consul's default {@code service:<id>}. */
  static String checkId(Instance i) {
    return i.getCheckId().isEmpty() ? "service:" + i.getId() : i.getCheckId();
  }

  /** Whether Consul would show a check for the instance: a lease (TTL) or a probe (HTTP/TCP). */
  static boolean hasCheck(Instance i) {
    return i.getEphemeral() || i.hasCheck();
  }

  static String status(Instance i) {
    return i.getHealth() == HealthStatus.UNHEALTHY ? "critical" : "passing";
  }

  static String checkType(Instance i) {
    if (i.getEphemeral()) {
      return "ttl";
    }
    return i.getCheck().hasHttp() ? "http" : "tcp";
  }

  /** An entry of {@code /v1/agent/services}, and the {@code Service} of a health entry. */
  static ObjectNode agentService(Instance i) {
    ObjectNode o = Json.object();
    o.put("ID", i.getId());
    o.put("Service", i.getService());
    tags(o.putArray("Tags"), i);
    meta(o.putObject("Meta"), i);
    o.put("Port", i.getPort());
    o.put("Address", i.getHost());
    weights(o.putObject("Weights"), i);
    o.put("EnableTagOverride", false);
    if (!i.getNamespace().equals(Registry.DEFAULT_NAMESPACE)) {
      o.put("Namespace", i.getNamespace());
    }
    return o;
  }

  /** An entry of {@code /v1/catalog/service/<name>}. */
  static ObjectNode catalogService(ConsulNode node, Instance i) {
    ObjectNode o = Json.object();
    o.put("ID", node.id());
    o.put("Node", node.name());
    o.put("Address", node.address());
    o.put("Datacenter", node.datacenter());
    o.putObject("TaggedAddresses");
    o.putObject("NodeMeta");
    o.put("ServiceID", i.getId());
    o.put("ServiceName", i.getService());
    tags(o.putArray("ServiceTags"), i);
    o.put("ServiceAddress", i.getHost());
    o.put("ServicePort", i.getPort());
    meta(o.putObject("ServiceMeta"), i);
    weights(o.putObject("ServiceWeights"), i);
    o.put("ServiceEnableTagOverride", false);
    o.put("CreateIndex", i.getRevision());
    o.put("ModifyIndex", i.getRevision());
    if (!i.getNamespace().equals(Registry.DEFAULT_NAMESPACE)) {
      o.put("Namespace", i.getNamespace());
    }
    return o;
  }

  /** An entry of {@code /v1/health/service/<name>}: node, service, checks. */
  static ObjectNode healthEntry(ConsulNode node, Instance i) {
    ObjectNode o = Json.object();
    o.set("Node", node(node));
    ObjectNode svc = agentService(i);
    svc.put("CreateIndex", i.getRevision());
    svc.put("ModifyIndex", i.getRevision());
    o.set("Service", svc);
    ArrayNode checks = o.putArray("Checks");
    if (hasCheck(i)) {
      checks.add(check(node, i));
    }
    if (i.getIsolated()) {
      checks.add(maintenance(node, i));
    }
    return o;
  }

  static ObjectNode node(ConsulNode node) {
    ObjectNode n = Json.object();
    n.put("ID", node.id());
    n.put("Node", node.name());
    n.put("Address", node.address());
    n.put("Datacenter", node.datacenter());
    n.putObject("TaggedAddresses");
    n.putObject("Meta");
    return n;
  }

  static ObjectNode check(ConsulNode node, Instance i) {
    ObjectNode c = Json.object();
    c.put("Node", node.name());
    c.put("CheckID", checkId(i));
    c.put("Name", "Service '" + i.getService() + "' check");
    c.put("Status", status(i));
    c.put("Notes", "");
    c.put("Output", "");
    c.put("ServiceID", i.getId());
    c.put("ServiceName", i.getService());
    tags(c.putArray("ServiceTags"), i);
    c.put("Type", checkType(i));
    c.put("CreateIndex", i.getRevision());
    c.put("ModifyIndex", i.getRevision());
    return c;
  }

  /**
   * An instance an operator isolated (out of discovery, still registered) shows as Consul shows a
   * service in maintenance mode: an extra critical check, so {@code passing} leaves it out.
   */
  static ObjectNode maintenance(ConsulNode node, Instance i) {
    ObjectNode c = Json.object();
    c.put("Node", node.name());
    c.put("CheckID", "_service_maintenance:" + i.getId());
    c.put("Name", "Service Maintenance Mode");
    c.put("Status", "critical");
    c.put("Notes", "isolated by an operator");
    c.put("Output", "");
    c.put("ServiceID", i.getId());
    c.put("ServiceName", i.getService());
    tags(c.putArray("ServiceTags"), i);
    c.put("Type", "maintenance");
    c.put("CreateIndex", i.getRevision());
    c.put("ModifyIndex", i.getRevision());
    return c;
  }

  private static void tags(ArrayNode arr, Instance i) {
    i.getTagsList().forEach(arr::add);
  }

  private static void meta(ObjectNode o, Instance i) {
    new TreeMap<>(i.getMetadataMap()).forEach(o::put);
  }

  /** Consul's weights are small integers (default 1); Lodestar's default weight 100 is Consul's 1. */
  private static void weights(ObjectNode o, Instance i) {
    int w = i.hasWeight() ? Math.max(1, i.getWeight() / 100) : 1;
    o.put("Passing", w);
    o.put("Warning", 1);
  }
}
