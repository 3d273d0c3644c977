package io.lodestar.server.naming;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.lodestar.api.Limits;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.HttpCheck;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.TcpCheck;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.UpdateInstance;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;
import io.lodestar.server.http.Json;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The REST API's JSON form of the naming model: Jackson binds a body to a {@link RestModel}
 * record and renders a response from one, and this class converts each of them from or to the
 * protobuf type, applying the one validation source (core {@link Validation}, api {@link Limits}).
 * Every problem names its field, by its JSON path ({@code check.intervalSeconds}).
 */
final class InstanceJson {
  /** Binding is strict: no number for a string or the reverse, no fraction for an integer. */
  private static final ObjectMapper BINDER = strict(Json.MAPPER.copy());
  private static final Set<String> REGISTRATION_FIELDS = fields(RestModel.Registration.class);
  private static final Set<String> CHECK_FIELDS = fields(RestModel.Check.class);
  private static final Set<String> UPDATE_FIELDS = fields(RestModel.Update.class);
  private static final Set<String> SERVICE_FIELDS = fields(RestModel.ServiceSettings.class);

  private InstanceJson() {}

  private static ObjectMapper strict(ObjectMapper m) {
    m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    refuse(m, LogicalType.Textual, CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean);
    refuse(m, LogicalType.Integer, CoercionInputShape.String, CoercionInputShape.EmptyString,
        CoercionInputShape.Float, CoercionInputShape.Boolean);
    refuse(m, LogicalType.Float, CoercionInputShape.String, CoercionInputShape.EmptyString,
        CoercionInputShape.Boolean);
    refuse(m, LogicalType.Boolean, CoercionInputShape.String, CoercionInputShape.EmptyString,
        CoercionInputShape.Integer, CoercionInputShape.Float);
    return m;
  }

  private static void refuse(ObjectMapper m, LogicalType target, CoercionInputShape... shapes) {
    for (CoercionInputShape shape : shapes) {
      m.coercionConfigFor(target).setCoercion(shape, CoercionAction.Fail);
    }
  }

  /** Reads an operator's update of an instance (PATCH): weight or restoreWeight, and/or isolated. */
  static UpdateInstance parseUpdate(JsonNode body, String namespace, String service, String id) {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!UPDATE_FIELDS.contains(f)) {
        throw LodestarException.invalid(f, "unknown field '" + f + "'; an update sets weight (or restoreWeight)"
            + " and/or isolated");
      }
    }
    refuseNulls(body, "", RestModel.Update.class, RestModel.Update.NULL_REFUSED);
    RestModel.Update u = bind(body, RestModel.Update.class);
    boolean restore = Boolean.TRUE.equals(u.restoreWeight());
    if (restore && u.weight() != null) {
      throw LodestarException.invalid("restoreWeight", "either set a weight or restore the registered one, not both");
    }
    if (u.weight() == null && u.isolated() == null && !restore) {
      throw LodestarException.invalid("weight", "nothing to change: set weight (or restoreWeight) and/or isolated");
    }
    UpdateInstance.Builder b = UpdateInstance.newBuilder().setRef(InstanceRef.newBuilder()
        .setNamespace(namespace).setService(service).setId(id));
    if (u.weight() != null) {
      b.setWeight(Validation.weight(u.weight()));
    }
    if (u.isolated() != null) {
      b.setIsolated(u.isolated());
    }
    return b.setRestoreWeight(restore).build();
  }

  /** Reads a service's settings (PUT): metadata and/or protectThreshold. */
  static PutService parseService(JsonNode body, String namespace, String service) {
    Json.onlyFields(body, "", SERVICE_FIELDS);
    refuseNulls(body, "", RestModel.ServiceSettings.class, RestModel.ServiceSettings.NULL_REFUSED);
    RestModel.ServiceSettings s = bind(body, RestModel.ServiceSettings.class);
    PutService.Builder b = PutService.newBuilder().setNamespace(namespace).setName(service);
    if (s.metadata() != null) {
      metadata(s.metadata(), b::putMetadata);
    }
    if (s.protectThreshold() != null) {
      double t = Validation.share("protectThreshold", s.protectThreshold());
      if (t <= 0) {
        // stored, 0 is "unset", read back as 0.5; and whoever sends 0 may mean Nacos's 0 (off)
        throw LodestarException.invalid("protectThreshold", "protectThreshold must be above 0 and at most 1: "
            + "the share of unhealthy instances above which discovery returns all of them (default 0.5; "
            + "1 turns protection off), got " + s.protectThreshold());
      }
      b.setProtectThreshold(t);
    }
    return b.build();
  }

  /** Reads a registration body. Namespace and service come from the path. */
  static Instance parseRegistration(JsonNode body, String namespace, String service) {
    Json.onlyFields(body, "", REGISTRATION_FIELDS);  // before any type error, as always
    if (body.get("check") instanceof ObjectNode c) {
      Json.onlyFields(c, "check.", CHECK_FIELDS);
      refuseNulls(c, "check.", RestModel.Check.class, RestModel.Check.NULL_REFUSED);
    }
    refuseNulls(body, "", RestModel.Registration.class, RestModel.Registration.NULL_REFUSED);
    RestModel.Registration r = bind(body, RestModel.Registration.class);
    Instance.Builder b = Instance.newBuilder().setNamespace(namespace).setService(service);
    b.setHost(Validation.host(required("host", r.host())));
    b.setPort(Validation.port(required("port", r.port())));
    if (r.id() == null) {
      String id = defaultId(b.getHost(), b.getPort());
      if (id.length() > io.lodestar.api.Limits.MAX_NAME_LENGTH) {
        // the client sent no id: name what it sent, and the way out
        throw LodestarException.invalid("host", "host is too long for the default id '" + (id.startsWith("ip6-")
            ? "ip6-<address>" : "host") + ":port' (" + io.lodestar.api.Limits.MAX_NAME_LENGTH
            + " characters at most, this one " + id.length() + "); give the instance an id");
      }
      b.setId(id);
    } else {
      b.setId(r.id());
    }
    if (r.protocol() != null) {
      b.setProtocol(r.protocol());
    }
    if (r.weight() != null) {
      b.setWeight(Validation.weight(r.weight()));
    }
    if (r.metadata() != null) {
      metadata(r.metadata(), b::putMetadata);
    }
    b.setEphemeral(r.ephemeral() == null || r.ephemeral());
    if (r.ttlSeconds() != null) {
      b.setTtlSeconds(Validation.ttlSeconds(r.ttlSeconds()));
    }
    if (r.check() != null) {
      b.setCheck(check(r.check()));
    }
    return b.build();
  }

  /** Metadata values may be given as strings, numbers or booleans; each is kept as its text. */
  private static void metadata(Map<String, JsonNode> metadata, java.util.function.BiConsumer<String, String> put) {
    metadata.forEach((k, v) -> {
      if (!v.isTextual() && !v.isNumber() && !v.isBoolean()) {
        throw LodestarException.invalid("metadata." + k, "metadata values must be strings");
      }
      if (v.isFloatingPointNumber() && !v.isBigDecimal() && !Double.isFinite(v.doubleValue())) {
        // 1e400 overflows to Infinity: stored as that word, it would not be what was sent
        throw LodestarException.invalid("metadata." + k, "metadata." + k + " is a number too large to keep; send it as a string");
      }
      put.accept(k, v.asText());
    });
  }

  private static HealthCheck check(RestModel.Check c) {
    HealthCheck.Builder b = HealthCheck.newBuilder();
    String type = required("check.type", c.type());
    switch (type) {
      case "tcp" -> b.setTcp(TcpCheck.getDefaultInstance());
      case "http" -> b.setHttp(HttpCheck.newBuilder().setPath(c.path() == null ? "/" : httpPath(c.path())));
      default -> throw LodestarException.invalid("check.type", "check.type must be tcp or http, got '" + type + "'");
    }
    if (c.intervalSeconds() != null) {
      b.setIntervalSeconds(within("check.intervalSeconds", c.intervalSeconds(), Limits.MAX_CHECK_INTERVAL_SECONDS));
    }
    if (c.timeoutSeconds() != null) {
      b.setTimeoutSeconds(within("check.timeoutSeconds", c.timeoutSeconds(), Limits.MAX_CHECK_TIMEOUT_SECONDS));
    }
    return b.build();
  }

  /** Checked here too so that the error names the body's field, not the stored form's (check.http.path). */
  private static String httpPath(String path) {
    if (!path.startsWith("/")) {
      throw LodestarException.invalid("check.path", "check.path must start with /");
    }
    Validation.probeUrl("check.path", path, "http://probed.host:1" + path);
    return path;
  }

  private static int within(String field, long v, int max) {
    if (v < 1 || v > max) {
      throw LodestarException.invalid(field, field + " must be within 1–" + max);
    }
    return (int) v;
  }

  private static <T> T required(String field, T value) {
    if (value == null) {
      throw LodestarException.invalid(field, field + " is required");
    }
    return value;
  }

  private static Set<String> fields(Class<? extends Record> type) {
    return Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).collect(Collectors.toSet());
  }

  /**
   * Refuses an explicit null in {@code fields}: there the API has always said what the field needs
   * rather than reading null as absent (which is how Jackson reads it).
   */
  private static void refuseNulls(JsonNode body, String prefix, Class<? extends Record> type, String... fields) {
    for (String f : fields) {
      if (body.has(f) && body.get(f).isNull()) {
        Class<?> t = component(type, f);
        throw LodestarException.invalid(prefix + f, prefix + f + " "
            + (t == String.class || t == Long.class ? "is required" : needs(t)));
      }
    }
  }

  /** Binds {@code body}; a value of the wrong type is refused naming its field by its JSON path. */
  private static <T> T bind(JsonNode body, Class<T> type) {
    try {
      return BINDER.treeToValue(body, type);
    } catch (JsonMappingException e) {
      Class<?> target = type;
      StringBuilder field = new StringBuilder();
      for (JsonMappingException.Reference r : e.getPath()) {
        if (r.getFieldName() == null || !target.isRecord()) {
          break;  // below a map (metadata) nothing is bound: its values are JSON nodes
        }
        field.append(field.length() == 0 ? "" : ".").append(r.getFieldName());
        target = component(target.asSubclass(Record.class), r.getFieldName());
      }
      throw LodestarException.invalid(field.toString(), field + " " + needs(target));
    } catch (JsonProcessingException e) {
      throw LodestarException.invalid("body", "invalid value: " + e.getOriginalMessage());
    }
  }

  private static Class<?> component(Class<? extends Record> type, String name) {
    return Arrays.stream(type.getRecordComponents()).filter(c -> c.getName().equals(name)).findFirst()
        .map(RecordComponent::getType).orElse(Object.class);
  }

  /** What a field of {@code type} needs to be. */
  private static String needs(Class<?> type) {
    if (type == String.class) {
      return "must be a string";
    }
    if (type == Long.class) {
      return "must be an integer";
    }
    if (type == Boolean.class) {
      return "must be true or false";
    }
    if (type == Double.class) {
      return "must be a number within 0–1";  // the one fractional field is a share (protectThreshold)
    }
    return Map.class.isAssignableFrom(type) ? "must be an object of strings" : "must be an object";
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

  /** A string field of a body parsed by hand (the namespace bodies). */
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

  static ObjectNode toJson(Instance i) {
    HealthCheck hc = i.getCheck();
    RestModel.CheckOut check = !i.hasCheck() ? null : new RestModel.CheckOut(hc.hasHttp() ? "http" : "tcp",
        hc.hasHttp() ? hc.getHttp().getPath() : null, nonEmpty(hc.getHttp().getUrl()),
        nonEmpty(hc.getTcp().getAddress()),
        hc.getIntervalSeconds() == 0 ? HealthChecker.DEFAULT_INTERVAL_SECONDS : hc.getIntervalSeconds(),
        hc.getTimeoutSeconds() == 0 ? HealthChecker.DEFAULT_TIMEOUT_SECONDS : hc.getTimeoutSeconds());
    return BINDER.valueToTree(new RestModel.InstanceOut(i.getId(), i.getNamespace(), i.getService(), i.getHost(),
        i.getPort(), i.getProtocol(), i.getWeight(), i.hasRegisteredWeight() ? i.getRegisteredWeight() : null,
        new TreeMap<>(i.getMetadataMap()),
        i.getTagsCount() == 0 ? null : i.getTagsList(), i.getEphemeral(),
        i.getEphemeral() ? i.getTtlSeconds() : null, check,
        i.getRemoveAfterSeconds() > 0 ? i.getRemoveAfterSeconds() : null,
        i.getHealth() == HealthStatus.UNHEALTHY ? "UNHEALTHY" : "HEALTHY", i.getIsolated(), i.getRevision(),
        Instant.ofEpochMilli(i.getRegisteredAtMs()).toString(), nonEmpty(i.getLeaseHolder()),
        nonEmpty(i.getOwner())));
  }

  static ObjectNode toJson(Namespace n) {
    return BINDER.valueToTree(new RestModel.NamespaceOut(n.getName(), n.getDescription(),
        // the built-in default namespace has no creation time
        n.getCreatedAtMs() == 0 ? null : Instant.ofEpochMilli(n.getCreatedAtMs()).toString()));
  }

  static ObjectNode toJson(ServiceInfo s) {
    return BINDER.valueToTree(new RestModel.ServiceOut(s.getNamespace(), s.getName(),
        new TreeMap<>(s.getMetadataMap()),
        s.getProtectThreshold() <= 0 ? Registry.DEFAULT_PROTECT_THRESHOLD : s.getProtectThreshold(),
        s.getRevision()));
  }

  private static String nonEmpty(String s) {
    return s.isEmpty() ? null : s;
  }
}
