package io.lodestar.server.naming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.HttpCheck;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.TcpCheck;
import io.lodestar.core.LodestarException;
import io.lodestar.server.http.Json;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/** The REST API's JSON form of the naming model. */
final class InstanceJson {
  private static final Set<String> REGISTER_FIELDS = Set.of("id", "host", "port", "protocol", "weight", "metadata",
      "ephemeral", "ttlSeconds", "check");
  private static final Set<String> CHECK_FIELDS = Set.of("type", "path", "intervalSeconds", "timeoutSeconds");

  private InstanceJson() {}

  private static final Set<String> UPDATE_FIELDS = Set.of("weight", "isolated");

  /** Reads an operator's update of an instance (PATCH): weight and/or isolated; every problem names its field. */
  static io.lodestar.api.v1.state.UpdateInstance parseUpdate(JsonNode body, String namespace, String service,
      String id) {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!UPDATE_FIELDS.contains(f)) {
        throw LodestarException.invalid(f, "unknown field '" + f + "'; an update sets weight and/or isolated");
      }
    }
    var b = io.lodestar.api.v1.state.UpdateInstance.newBuilder().setRef(io.lodestar.api.v1.state.InstanceRef
        .newBuilder().setNamespace(namespace).setService(service).setId(id));
    if (body.has("weight")) {
      b.setWeight(io.lodestar.core.Validation.weight(integer(body, "weight", true, 0)));
    }
    if (body.has("isolated")) {
      if (!body.get("isolated").isBoolean()) {
        throw LodestarException.invalid("isolated", "isolated must be true or false");
      }
      b.setIsolated(body.get("isolated").asBoolean());
    }
    if (!b.hasWeight() && !b.hasIsolated()) {
      throw LodestarException.invalid("weight", "nothing to change: set weight and/or isolated");
    }
    return b.build();
  }

  /** Reads a registration body; every problem names its field. Namespace and service come from the path. */
  static Instance parseRegistration(JsonNode body, String namespace, String service) {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!REGISTER_FIELDS.contains(f)) {
        throw LodestarException.invalid(f, "unknown field '" + f + "'");
      }
    }
    Instance.Builder b = Instance.newBuilder().setNamespace(namespace).setService(service);
    b.setHost(io.lodestar.core.Validation.host(text(body, "host", true)));
    b.setPort(io.lodestar.core.Validation.port(integer(body, "port", true, 0)));
    String id = text(body, "id", false);
    b.setId(id == null ? defaultId(b.getHost(), b.getPort()) : id);
    String protocol = text(body, "protocol", false);
    if (protocol != null) {
      b.setProtocol(protocol);
    }
    if (body.has("weight")) {
      b.setWeight(io.lodestar.core.Validation.weight(integer(body, "weight", true, 0)));  // the one limit (api Limits)
    }
    if (body.has("metadata") && !body.get("metadata").isNull()) {
      JsonNode md = body.get("metadata");
      if (!md.isObject()) {
        throw LodestarException.invalid("metadata", "metadata must be an object of strings");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = md.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual() && !e.getValue().isNumber() && !e.getValue().isBoolean()) {
          throw LodestarException.invalid("metadata." + e.getKey(), "metadata values must be strings");
        }
        b.putMetadata(e.getKey(), e.getValue().asText());
      }
    }
    boolean ephemeral = true;
    if (body.has("ephemeral")) {
      if (!body.get("ephemeral").isBoolean()) {
        throw LodestarException.invalid("ephemeral", "ephemeral must be true or false");
      }
      ephemeral = body.get("ephemeral").asBoolean();
    }
    b.setEphemeral(ephemeral);
    if (body.has("ttlSeconds")) {
      b.setTtlSeconds(io.lodestar.core.Validation.ttlSeconds(integer(body, "ttlSeconds", true, 0)));
    }
    if (body.has("check") && !body.get("check").isNull()) {
      b.setCheck(parseCheck(body.get("check")));
    }
    return b.build();
  }

  /**
   * The id of an instance registered without one: {@code host:port}. An IPv6 host is not a valid
   * name ({@code ::1} starts with a colon, a zone has a {@code %}), so it becomes
   * {@code ip6-<address>:port} with the zone's {@code %} written {@code @}: {@code ip6-fe80::1@eth0:8080}.
   */
  static String defaultId(String host, int port) {
    if (host.indexOf(':') < 0) {
      return host + ":" + port;
    }
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return "ip6-" + bare.replace('%', '@') + ":" + port;
  }

  private static HealthCheck parseCheck(JsonNode c) {
    if (!c.isObject()) {
      throw LodestarException.invalid("check", "check must be an object");
    }
    Json.onlyFields(c, "check.", CHECK_FIELDS);
    HealthCheck.Builder b = HealthCheck.newBuilder();
    String type = text(c, "type", true);
    switch (type) {
      case "tcp" -> b.setTcp(TcpCheck.getDefaultInstance());
      case "http" -> {
        String path = c.has("path") ? text(c, "path", true) : "/";
        b.setHttp(HttpCheck.newBuilder().setPath(path));
      }
      default -> throw LodestarException.invalid("check.type", "check.type must be tcp or http, got '" + type + "'");
    }
    if (c.has("intervalSeconds")) {
      long v = integer(c, "intervalSeconds", true, 0);
      if (v < 1 || v > io.lodestar.api.Limits.MAX_CHECK_INTERVAL_SECONDS) {
        throw LodestarException.invalid("check.intervalSeconds", "check.intervalSeconds must be within 1–"
            + io.lodestar.api.Limits.MAX_CHECK_INTERVAL_SECONDS);
      }
      b.setIntervalSeconds((int) v);
    }
    if (c.has("timeoutSeconds")) {
      long v = integer(c, "timeoutSeconds", true, 0);
      if (v < 1 || v > io.lodestar.api.Limits.MAX_CHECK_TIMEOUT_SECONDS) {
        throw LodestarException.invalid("check.timeoutSeconds", "check.timeoutSeconds must be within 1–"
            + io.lodestar.api.Limits.MAX_CHECK_TIMEOUT_SECONDS);
      }
      b.setTimeoutSeconds((int) v);
    }
    return b.build();
  }

  static String text(JsonNode body, String field, boolean required) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw LodestarException.invalid(field, field + " is required");
      }
      return null;
    }
    if (!n.isTextual()) {
      throw LodestarException.invalid(field, field + " must be a string");
    }
    return n.asText();
  }

  static long integer(JsonNode body, String field, boolean required, long dflt) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw LodestarException.invalid(field, field + " is required");
      }
      return dflt;
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw LodestarException.invalid(field, field + " must be an integer");
    }
    return n.asLong();
  }

  static ObjectNode toJson(Instance i) {
    ObjectNode o = Json.object();
    o.put("id", i.getId());
    o.put("namespace", i.getNamespace());
    o.put("service", i.getService());
    o.put("host", i.getHost());
    o.put("port", i.getPort());
    o.put("protocol", i.getProtocol());
    o.put("weight", i.getWeight());
    ObjectNode md = o.putObject("metadata");
    new java.util.TreeMap<>(i.getMetadataMap()).forEach(md::put);
    if (i.getTagsCount() > 0) {
      i.getTagsList().forEach(o.putArray("tags")::add);
    }
    o.put("ephemeral", i.getEphemeral());
    if (i.getEphemeral()) {
      o.put("ttlSeconds", i.getTtlSeconds());
    }
    if (i.hasCheck()) {
      ObjectNode c = o.putObject("check");
      HealthCheck hc = i.getCheck();
      c.put("type", hc.hasHttp() ? "http" : "tcp");
      if (hc.hasHttp()) {
        c.put("path", hc.getHttp().getPath());
        if (!hc.getHttp().getUrl().isEmpty()) {
          c.put("url", hc.getHttp().getUrl());
        }
      }
      if (hc.hasTcp() && !hc.getTcp().getAddress().isEmpty()) {
        c.put("address", hc.getTcp().getAddress());
      }
      c.put("intervalSeconds", hc.getIntervalSeconds() == 0 ? HealthChecker.DEFAULT_INTERVAL_SECONDS
          : hc.getIntervalSeconds());
      c.put("timeoutSeconds", hc.getTimeoutSeconds() == 0 ? HealthChecker.DEFAULT_TIMEOUT_SECONDS
          : hc.getTimeoutSeconds());
    }
    if (i.getRemoveAfterSeconds() > 0) {
      o.put("removeAfterSeconds", i.getRemoveAfterSeconds());
    }
    o.put("health", i.getHealth() == HealthStatus.UNHEALTHY ? "UNHEALTHY" : "HEALTHY");
    o.put("isolated", i.getIsolated());
    o.put("revision", i.getRevision());
    o.put("registeredAt", Instant.ofEpochMilli(i.getRegisteredAtMs()).toString());
    if (!i.getLeaseHolder().isEmpty()) {
      o.put("leaseHolder", i.getLeaseHolder());
    }
    if (!i.getOwner().isEmpty()) {
      o.put("owner", i.getOwner());
    }
    return o;
  }

  static ObjectNode toJson(Namespace n) {
    ObjectNode o = Json.object();
    o.put("name", n.getName());
    o.put("description", n.getDescription());
    if (n.getCreatedAtMs() != 0) { // the built-in default namespace has no creation time
      o.put("createdAt", Instant.ofEpochMilli(n.getCreatedAtMs()).toString());
    } else {
      o.putNull("createdAt");
    }
    return o;
  }

  static ObjectNode toJson(ServiceInfo s) {
    ObjectNode o = Json.object();
    o.put("namespace", s.getNamespace());
    o.put("name", s.getName());
    ObjectNode md = o.putObject("metadata");
    new java.util.TreeMap<>(s.getMetadataMap()).forEach(md::put);
    o.put("protectThreshold", s.getProtectThreshold() <= 0 ? io.lodestar.core.naming.Registry.DEFAULT_PROTECT_THRESHOLD
        : s.getProtectThreshold());
    o.put("revision", s.getRevision());
    return o;
  }
}
