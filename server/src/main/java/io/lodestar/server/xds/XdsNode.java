package io.lodestar.server.xds;

import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.lodestar.core.naming.Registry;
import java.util.HashMap;
import java.util.Map;

/**
 * Who is asking, as far as the control plane is concerned: the namespace whose services the node
 * sees, the caller labels that route rules match on, and whether it is an Envoy.
 *
 * <p>This is the one place a node's identity is derived. Today the node says who it is (metadata
 * {@code lodestar.namespace}); once authentication exists, the authenticated principal decides the
 * namespace here and a node's own claim can only narrow it.
 */
public record XdsNode(String id, String namespace, Map<String, String> labels, boolean envoy) {
  public static final String NAMESPACE_KEY = "lodestar.namespace";

  public XdsNode {
    labels = Map.copyOf(labels);
  }

  /**
   * Reads a node. Caller labels are the node's string metadata, plus its locality as
   * {@code region}/{@code zone}/{@code sub_zone} where the metadata does not set those keys.
   */
  public static XdsNode of(Node node) {
    Map<String, String> labels = new HashMap<>();
    node.getMetadata().getFieldsMap().forEach((k, v) -> {
      if (v.getKindCase() == Value.KindCase.STRING_VALUE) {
        labels.put(k, v.getStringValue());
      }
    });
    if (node.hasLocality()) {
      putIfSet(labels, "region", node.getLocality().getRegion());
      putIfSet(labels, "zone", node.getLocality().getZone());
      putIfSet(labels, "sub_zone", node.getLocality().getSubZone());
    }
    String ns = labels.getOrDefault(NAMESPACE_KEY, "");
    if (ns.isEmpty()) {
      ns = Registry.DEFAULT_NAMESPACE;
    }
    // Envoy names itself in user_agent_name; gRPC says "gRPC Java", "gRPC Go", ...
    boolean envoy = "envoy".equalsIgnoreCase(node.getUserAgentName());
    return new XdsNode(node.getId(), ns, labels, envoy);
  }

  private static void putIfSet(Map<String, String> labels, String key, String value) {
    if (!value.isEmpty()) {
      labels.putIfAbsent(key, value);
    }
  }
}
