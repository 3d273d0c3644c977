package io.lodestar.cli;

import java.net.URI;
import java.util.Locale;

/**
 * Where the server is: {@code host:port}, {@code host} (port 8700), {@code [v6]:port}, or a URL
 * such as {@code http://host:port} / {@code https://host}.
 */
record ServerAddress(String scheme, String host, int port) {
  static final int DEFAULT_PORT = 8700;
  static final String DEFAULT = "127.0.0.1:" + DEFAULT_PORT;

  static ServerAddress parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("the server address is empty (expected host:port)");
    }
    String s = text.trim();
    String scheme = "http";
    int sep = s.indexOf("://");
    if (sep >= 0) {
      scheme = s.substring(0, sep).toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("unsupported scheme '" + scheme + "' in server address '" + text + "' (use http or https)");
      }
      s = s.substring(sep + 3);
      int slash = s.indexOf('/');
      if (slash >= 0) {
        s = s.substring(0, slash);
      }
    }
    String host;
    String portText = null;
    if (s.startsWith("[")) {
      int end = s.indexOf(']');
      if (end < 0) {
        throw new IllegalArgumentException("invalid server address '" + text + "' (unclosed '[')");
      }
      host = s.substring(0, end + 1);
      String rest = s.substring(end + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException("invalid server address '" + text + "' (expected host:port)");
        }
        portText = rest.substring(1);
      }
    } else {
      int colon = s.lastIndexOf(':');
      if (colon >= 0 && s.indexOf(':') != colon) {
        throw new IllegalArgumentException("invalid server address '" + text + "' (write IPv6 addresses as [addr]:port)");
      }
      host = colon >= 0 ? s.substring(0, colon) : s;
      portText = colon >= 0 ? s.substring(colon + 1) : null;
    }
    if (host.isEmpty() || host.equals("[]")) {
      throw new IllegalArgumentException("invalid server address '" + text + "' (missing host)");
    }
    int port;
    if (portText == null) {
      port = scheme.equals("https") && sep >= 0 ? 443 : DEFAULT_PORT;
    } else {
      try {
        port = Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("invalid port '" + portText + "' in server address '" + text + "'");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("invalid port " + port + " in server address '" + text + "' (1–65535)");
      }
    }
    try {
      URI.create(scheme + "://" + host + ":" + port + "/");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid server address '" + text + "'");
    }
    return new ServerAddress(scheme, host, port);
  }

  URI base() {
    return URI.create(scheme + "://" + host + ":" + port);
  }

  /** How the address is shown in messages: {@code host:port}, with the scheme only if https. */
  @Override
  public String toString() {
    return (scheme.equals("https") ? "https://" : "") + host + ":" + port;
  }
}
