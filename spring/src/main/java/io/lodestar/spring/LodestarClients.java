package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import java.util.Map;

/**
 * Builds the one SDK client of an application. Its labels are {@code lodestar.discovery.metadata.*}:
 * the same labels gray config releases select on and route rules see as the caller's.
 */
final class LodestarClients {
  private LodestarClients() {}

  static LodestarClient create(LodestarProperties p) {
    Map<String, String> labels = p.getDiscovery().getMetadata();
    LodestarClient.Builder b = LodestarClient.builder().servers(p.serverList()).labels(labels == null ? Map.of() : labels)
        .connectTimeout(p.getConnectTimeout()).requestTimeout(p.getRequestTimeout()).token(p.getToken());
    if (p.clientTls() != null) {
      b.tls(p.clientTls());
    }
    return b.build();
  }
}
