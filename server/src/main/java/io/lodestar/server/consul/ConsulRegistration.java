package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.HttpCheck;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.TcpCheck;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads a Consul service definition ({@code PUT /v1/agent/service/register}) into a Lodestar
 * instance:
 *
 * <ul>
 *   <li>a TTL check makes an ephemeral instance whose lease is the check: {@code check/pass}
 *       renews it, a missed TTL makes it unhealthy;
 *   <li>an HTTP or TCP check makes a persistent instance the server probes;
 *   <li>no check makes a persistent instance without a probe (Consul counts it as passing);
 *   <li>{@code DeregisterCriticalServiceAfter} becomes the instance's remove-after.
 * </ul>
 * Checks start critical, as Consul's do, unless the definition says {@code Status: passing}.
 */
final class ConsulRegistration {
  /** A registration: the instance and the health it starts with. */
  record Parsed(Instance instance, HealthStatus initialHealth) {}

  private ConsulRegistration() {}

  static Parsed parse(JsonNode body, String namespace, String defaultAddress) {
    if (!body.isObject()) {
      throw invalid("body", "Request decode failed: expected a JSON object");
    }
    String name = text(body, "Name");
    if (name == null || name.isEmpty()) {
      throw invalid("Name", "Missing service name");
    }
    Validation.name("Name", name);
    String id = text(body, "ID");
    id = id == null || id.isEmpty() ? name : id;
    Validation.name("ID", id);
    Instance.Builder b = Instance.newBuilder().setNamespace(namespace).setService(name).setId(id);
    String address = text(body, "Address");
    b.setHost(Validation.host(address == null || address.isEmpty() ? defaultAddress : address));
    JsonNode port = field(body, "Port");
    if (port != null && !port.isNull() && !port.isIntegralNumber()) {
      // canConvertToInt() takes 1.5 and would store 1: refuse what Consul's decoder refuses
      throw invalid("Port", "Port must be an integer, got " + port);
    }
    if (port == null || !port.canConvertToInt() || port.asInt() < 1 || port.asInt() > 65535) {
      throw invalid("Port", "Port must be within 1–65535: a Lodestar instance has a port");
    }
    b.setPort(port.asInt());
    JsonNode tags = field(body, "Tags");
    if (tags != null && !tags.isNull()) {
      if (!tags.isArray()) {
        throw invalid("Tags", "Tags must be an array of strings");
      }
      for (JsonNode t : tags) {
        if (!t.isTextual()) {
          throw invalid("Tags", "Tags must be an array of strings");
        }
        b.addTags(t.asText());
      }
      Validation.tags("Tags", b.getTagsList());
    }
    JsonNode meta = field(body, "Meta");
    if (meta != null && !meta.isNull()) {
      if (!meta.isObject()) {
        throw invalid("Meta", "Meta must be an object of strings");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          throw invalid("Meta." + e.getKey(), "Meta values must be strings");
        }
        b.putMetadata(e.getKey(), e.getValue().asText());
      }
      Validation.metadata("Meta", b.getMetadataMap());
    }
    JsonNode check = field(body, "Check");
    JsonNode checks = field(body, "Checks");
    int count = (check != null && !check.isNull() ? 1 : 0);
    if (checks != null && !checks.isNull()) {
      if (!checks.isArray()) {
        throw invalid("Checks", "Checks must be an array");
      }
      count += checks.size();
      if (checks.size() == 1) {
        check = checks.get(0);
      }
    }
    if (count > 1) {
      throw invalid("Checks", "Lodestar keeps one health check per instance; got " + count);
    }
    HealthStatus initial = HealthStatus.HEALTHY;
    if (count == 1) {
      initial = check(check, id, b);
    } else {
      b.setEphemeral(false);
    }
    Instance i = b.build();
    Registry.validateInstance(i);
    return new Parsed(i, initial);
  }

  /** Fills the instance's health model from one check; answers the health it starts with. */
  private static HealthStatus check(JsonNode c, String serviceId, Instance.Builder b) {
    if (!c.isObject()) {
      throw invalid("Check", "Check must be an object");
    }
    String checkId = text(c, "CheckID");
    if (checkId == null || checkId.isEmpty()) {
      checkId = text(c, "ID");
    }
    if (checkId != null && !checkId.isEmpty() && !checkId.equals("service:" + serviceId)) {
      b.setCheckId(checkId);
    }
    String ttl = text(c, "TTL");
    String http = text(c, "HTTP");
    String tcp = text(c, "TCP");
    int kinds = (ttl != null && !ttl.isEmpty() ? 1 : 0) + (http != null && !http.isEmpty() ? 1 : 0)
        + (tcp != null && !tcp.isEmpty() ? 1 : 0);
    if (kinds != 1) {
      throw invalid("Check", kinds == 0
          ? "Check needs one of TTL, HTTP or TCP (script, gRPC, Docker and alias checks are not supported)"
          : "Check must have only one of TTL, HTTP or TCP");
    }
    String deregister = text(c, "DeregisterCriticalServiceAfter");
    if (deregister != null && !deregister.isEmpty()) {
      b.setRemoveAfterSeconds(seconds("Check.DeregisterCriticalServiceAfter", deregister, 1,
          Validation.MAX_REMOVE_AFTER_SECONDS));
    }
    if (ttl != null && !ttl.isEmpty()) {
      b.setEphemeral(true).setTtlSeconds(seconds("Check.TTL", ttl, 1, 3600));
    } else {
      HealthCheck.Builder hc = HealthCheck.newBuilder();
      if (http != null && !http.isEmpty()) {
        if (!(http.startsWith("http://") || http.startsWith("https://"))) {
          throw invalid("Check.HTTP", "Check.HTTP must be an http:// or https:// URL");
        }
        hc.setHttp(HttpCheck.newBuilder().setUrl(http).setPath("/"));
      } else {
        int colon = tcp.lastIndexOf(':');
        if (colon < 1 || !validPort(tcp.substring(colon + 1))) {
          throw invalid("Check.TCP", "Check.TCP must be host:port with a port within 1–65535, got " + tcp);
        }
        hc.setTcp(TcpCheck.newBuilder().setAddress(tcp));
      }
      String interval = text(c, "Interval");
      if (interval == null || interval.isEmpty()) {
        throw invalid("Check.Interval", "Interval must be specified for HTTP and TCP checks");
      }
      hc.setIntervalSeconds(seconds("Check.Interval", interval, 1, 3600));
      String timeout = text(c, "Timeout");
      if (timeout != null && !timeout.isEmpty()) {
        hc.setTimeoutSeconds(seconds("Check.Timeout", timeout, 1, 60));
      }
      b.setEphemeral(false).setCheck(hc);
    }
    String status = text(c, "Status");
    if (status != null && !status.isEmpty() && !java.util.Set.of("passing", "warning", "critical").contains(status)) {
      throw invalid("Check.Status", "Check.Status must be passing, warning or critical, got " + status);
    }
    return "passing".equals(status) ? HealthStatus.HEALTHY : HealthStatus.UNHEALTHY;
  }

  private static boolean validPort(String s) {
    if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(Character::isDigit)) {
      return false;
    }
    int p = Integer.parseInt(s);
    return p >= 1 && p <= 65535;
  }

  /** A duration in whole seconds, rounded up; Lodestar's health model counts seconds. */
  private static int seconds(String field, String value, int min, int max) {
    if (!value.equals("0") && value.chars().allMatch(Character::isDigit)) {
      // a body's duration is Go's: "10" has no unit (a query's bare number is read as seconds, not this)
      throw invalid(field, "Invalid " + field + ": missing unit in duration \"" + value + "\" (send \"" + value + "s\")");
    }
    Duration d = ConsulQuery.duration(field, value);
    long s = (d.toMillis() + 999) / 1000;
    if (s < min || s > max) {
      throw invalid(field, field + " must be within " + min + "s–" + max + "s, got " + value);
    }
    return (int) s;
  }

  /** A field by Consul's name, or in any letter case (Consul's decoder does not mind case). */
  private static JsonNode field(JsonNode o, String name) {
    JsonNode n = o.get(name);
    if (n != null) {
      return n;
    }
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (f.equalsIgnoreCase(name)) {
        return o.get(f);
      }
    }
    return null;
  }

  private static String text(JsonNode o, String name) {
    JsonNode n = field(o, name);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      // Consul's decoder refuses 123 for a string field: storing "123" would take what it refuses
      throw invalid(name, name + " must be a string");
    }
    return n.asText();
  }

  private static LodestarException invalid(String field, String message) {
    return LodestarException.invalid(field, message);
  }
}
