package io.lodestar.server.naming;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The REST API's naming shapes, as Jackson binds them: what a registration and an update body may
 * hold, and what an instance, namespace and service look like in a response. Component order is
 * JSON key order; a null component is left out. These differ from the protobuf JSON mapping where
 * the API always has (dates as ISO-8601 text, {@code check.type} instead of a oneof, the default
 * check times filled in, some fields shown only when they apply), so {@link InstanceJson} converts
 * between them and the protobuf types in one place each way.
 */
final class RestModel {
  private RestModel() {}

  /**
   * A registration (POST); namespace and service come from the path. An absent field is the
   * default; so is a null one, except in the fields listed in {@link #NULL_REFUSED}.
   */
  record Registration(String id, String host, Long port, String protocol, Long weight,
      Map<String, JsonNode> metadata,  // values may be strings, numbers or booleans; kept as text
      Boolean ephemeral, Long ttlSeconds, Check check) {
    static final String[] NULL_REFUSED = {"weight", "ephemeral", "ttlSeconds"};
  }

  /** A health check as registered: {@code type} is tcp or http; {@code path} is http's. */
  record Check(String type, String path, Long intervalSeconds, Long timeoutSeconds) {
    static final String[] NULL_REFUSED = {"path"};
  }

  /** A service's settings (PUT); null is refused in both fields. */
  record ServiceSettings(Map<String, JsonNode> metadata, Double protectThreshold) {
    static final String[] NULL_REFUSED = {"metadata", "protectThreshold"};
  }

  /**
   * An operator's update of an instance (PATCH); null is refused in every field. {@code
   * restoreWeight} hands the weight back to the instance (its registered one), not with {@code weight}.
   */
  record Update(Long weight, Boolean isolated, Boolean restoreWeight) {
    static final String[] NULL_REFUSED = {"weight", "isolated", "restoreWeight"};
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record InstanceOut(String id, String namespace, String service, String host, int port, String protocol,
      int weight, Integer registeredWeight, Map<String, String> metadata, List<String> tags, boolean ephemeral, Integer ttlSeconds,
      CheckOut check, Integer removeAfterSeconds, String health, boolean isolated, long revision,
      String registeredAt, String leaseHolder, String owner) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record CheckOut(String type, String path, String url, String address, int intervalSeconds,
      int timeoutSeconds) {}

  /** {@code createdAt} is null for the built-in default namespace, and written as null. */
  record NamespaceOut(String name, String description, String createdAt) {}

  record ServiceOut(String namespace, String name, Map<String, String> metadata, double protectThreshold,
      long revision) {}
}
