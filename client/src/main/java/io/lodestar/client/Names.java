package io.lodestar.client;

import io.lodestar.api.Limits;
import java.util.List;
import java.util.Map;

/**
 * Input checks for the SDK, on the server's own limits ({@link Limits}, in api/), so that a bad
 * argument fails at once, in the caller's thread, with an {@link IllegalArgumentException} naming
 * the field.
 */
final class Names {
  private Names() {}

  static String name(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (value.length() > Limits.MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(field + " is longer than " + Limits.MAX_NAME_LENGTH + " characters");
    }
    if (!Limits.isName(value)) {
      throw new IllegalArgumentException(field + " '" + value + "' has illegal characters (allowed: "
          + Limits.NAME_ALPHABET + ")");
    }
    return value;
  }

  static String host(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (!Limits.isHost(value)) {
      throw new IllegalArgumentException(field + " '" + value + "' is not a host name or IP address");
    }
    return value;
  }

  static int port(String field, int value) {
    if (value < 1 || value > 65535) {
      throw new IllegalArgumentException(field + " must be within 1–65535, got " + value);
    }
    return value;
  }

  static void metadata(String field, Map<String, String> metadata) {
    if (metadata == null) {
      throw new IllegalArgumentException(field + " must not be null");
    }
    if (metadata.size() > Limits.MAX_METADATA_ENTRIES) {
      throw new IllegalArgumentException(field + " has more than " + Limits.MAX_METADATA_ENTRIES + " entries");
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String k = e.getKey();
      if (k == null || k.isEmpty() || k.length() > Limits.MAX_METADATA_KEY) {
        throw new IllegalArgumentException(field + " keys must have 1–" + Limits.MAX_METADATA_KEY + " characters");
      }
      if (e.getValue() == null || e.getValue().length() > Limits.MAX_METADATA_VALUE) {
        throw new IllegalArgumentException(field + "." + k + " must be non-null with at most "
            + Limits.MAX_METADATA_VALUE + " characters");
      }
    }
  }

  /** Parses "host:port" or "[v6]:port". */
  static ServerAddress server(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " is empty; expected host:port");
    }
    String v = value.trim();
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1) {
      throw new IllegalArgumentException(field + " '" + value + "' is not host:port");
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(field + " '" + value + "' is not host:port (write IPv6 as [addr]:port)");
    }
    if (!Limits.isHost(host)) {
      throw new IllegalArgumentException(field + " '" + value + "' has an invalid host");
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(field + " '" + value + "' has a non-numeric port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(field + " '" + value + "' has a port outside 1–65535");
    }
    return new ServerAddress(host, port);
  }

  static List<ServerAddress> servers(String field, List<String> values) {
    if (values == null || values.isEmpty()) {
      throw new IllegalArgumentException(field + " is required: at least one host:port");
    }
    return java.util.stream.IntStream.range(0, values.size())
        .mapToObj(k -> server(field + "[" + k + "]", values.get(k)))
        .toList();
  }

  record ServerAddress(String host, int port) {
    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }
}
