package io.lodestar.server.xds;

import java.util.Map;
import java.util.TreeMap;

/**
 * Names of a service's clusters. grpc-xds ignores subset load balancing, so each subset a route
 * rule names is its own cluster: {@code greeter} holds every instance, {@code greeter|version=v2}
 * those whose metadata has version=v2 (keys sorted, joined by ',').
 */
final class ClusterNames {
  static final char SEPARATOR = '|';

  private ClusterNames() {}

  static String of(String service, Map<String, String> subset) {
    if (subset.isEmpty()) {
      return service;
    }
    StringBuilder sb = new StringBuilder(service).append(SEPARATOR);
    boolean first = true;
    for (Map.Entry<String, String> e : new TreeMap<>(subset).entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      sb.append(e.getKey()).append('=').append(e.getValue());
    }
    return sb.toString();
  }

  /** The service a cluster (or endpoint assignment) name belongs to. */
  static String service(String clusterName) {
    int i = clusterName.indexOf(SEPARATOR);
    return i < 0 ? clusterName : clusterName.substring(0, i);
  }
}
