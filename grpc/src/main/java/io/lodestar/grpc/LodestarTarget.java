package io.lodestar.grpc;

import java.net.URI;
import java.util.Objects;

/**
 * A parsed {@code lodestar://[server]/[namespace/]service} target. An empty authority means the
 * default server: the {@code lodestar.server} system property, else the {@code LODESTAR_SERVER}
 * environment variable, else {@code 127.0.0.1:8700}. The server part may list several
 * comma-separated {@code host:port}s (a cluster's seeds).
 */
record LodestarTarget(String servers, String namespace, String service) {
  static final String SCHEME = "lodestar";
  static final String DEFAULT_SERVER = "127.0.0.1:8700";
  static final String DEFAULT_NAMESPACE = "default";

  LodestarTarget {
    Objects.requireNonNull(servers, "servers");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(service, "service");
  }

  /** Parses a target URI; null when it is not a {@code lodestar:} URI. */
  static LodestarTarget parse(URI uri) {
    if (!SCHEME.equals(uri.getScheme())) {
      return null;
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    String[] parts = path.startsWith("/") ? path.substring(1).split("/", -1) : path.split("/", -1);
    String namespace;
    String service;
    if (parts.length == 1) {
      namespace = DEFAULT_NAMESPACE;
      service = parts[0];
    } else if (parts.length == 2) {
      namespace = parts[0];
      service = parts[1];
    } else {
      throw new IllegalArgumentException("target " + uri + ": the path must be /service or /namespace/service");
    }
    if (service.isEmpty() || namespace.isEmpty()) {
      throw new IllegalArgumentException("target " + uri + ": no service named (lodestar:///service)");
    }
    String authority = uri.getAuthority();
    String servers = authority == null || authority.isEmpty() ? defaultServers() : authority;
    return new LodestarTarget(servers, namespace, service);
  }

  static String defaultServers() {
    String prop = System.getProperty("lodestar.server");
    if (prop != null && !prop.isBlank()) {
      return prop.trim();
    }
    String env = System.getenv("LODESTAR_SERVER");
    return env != null && !env.isBlank() ? env.trim() : DEFAULT_SERVER;
  }
}
