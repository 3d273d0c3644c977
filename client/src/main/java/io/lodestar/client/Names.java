package io.lodestar.client;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Input checks for the SDK, mirroring the server's rules so that a bad argument fails at once, in
 * the caller's thread, with an {@link IllegalArgumentException} naming the field.
 */
final class Names {
  static final int MAX_NAME_LENGTH = 128;
  static final int MAX_HOST_LENGTH = 253;
  static final int MAX_WEIGHT = 10_000;
  static final int MAX_TTL_SECONDS = 3600;
  static final int MAX_PROTOCOL_LENGTH = 32;
  static final int MAX_METADATA_ENTRIES = 64;
  static final int MAX_METADATA_KEY = 128;
  static final int MAX_METADATA_VALUE = 1024;

  // Same alphabet as the server: letters, digits and . _ - : @, starting with a letter or digit.
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]*");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%\\[\\]-]+");

  private Names() {}

  static String name(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (value.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(field + " is longer than " + MAX_NAME_LENGTH + " characters");
    }
    if (!NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(field + " '" + value
          + "' has illegal characters (allowed: letters, digits, . _ - : @; starting with a letter or digit)");
    }
    return value;
  }

  static String host(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (value.length() > MAX_HOST_LENGTH || !HOST.matcher(value).matches()) {
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
    if (metadata.size() > MAX_METADATA_ENTRIES) {
      throw new IllegalArgumentException(field + " has more than " + MAX_METADATA_ENTRIES + " entries");
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String k = e.getKey();
      if (k == null || k.isEmpty() || k.length() > MAX_METADATA_KEY) {
        throw new IllegalArgumentException(field + " keys must have 1–" + MAX_METADATA_KEY + " characters");
      }
      if (e.getValue() == null || e.getValue().length() > MAX_METADATA_VALUE) {
        throw new IllegalArgumentException(field + "." + k + " must be non-null with at most "
            + MAX_METADATA_VALUE + " characters");
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
    if (host.isEmpty() || !HOST.matcher(host).matches()) {
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
