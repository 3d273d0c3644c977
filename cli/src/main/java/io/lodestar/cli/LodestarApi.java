package io.lodestar.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Executors;

/** The server's REST API, one blocking call at a time. Errors come out as {@link CliException}s. */
final class LodestarApi {
  static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  static final String INDEX_HEADER = "X-Lodestar-Index";

  private final ServerAddress server;
  private final Duration timeout;
  private final HttpClient http;

  LodestarApi(ServerAddress server, Duration timeout) {
    this.server = server;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder()
        .connectTimeout(timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER)
        // daemon threads: an abandoned request never keeps the JVM alive
        .executor(Executors.newCachedThreadPool(r -> {
          Thread t = new Thread(r, "lodestar-http");
          t.setDaemon(true);
          return t;
        }))
        .build();
  }

  ServerAddress server() {
    return server;
  }

  /** A successful answer: its status, parsed body (MissingNode when empty) and raw text. */
  record Response(int status, JsonNode json, String body, Map<String, String> headers) {
    long index(long fallback) {
      String h = headers.get(INDEX_HEADER.toLowerCase(Locale.ROOT));
      if (h != null) {
        try {
          return Long.parseLong(h.trim());
        } catch (NumberFormatException ignored) {
          // fall through
        }
      }
      return json.path("revision").asLong(fallback);
    }
  }

  Response get(String path, Map<String, String> query) throws InterruptedException {
    return send("GET", path, query, null, timeout);
  }

  Response get(String path, Map<String, String> query, Duration timeout) throws InterruptedException {
    return send("GET", path, query, null, timeout);
  }

  Response post(String path, JsonNode body) throws InterruptedException {
    return send("POST", path, Map.of(), body, timeout);
  }

  Response put(String path, JsonNode body) throws InterruptedException {
    return send("PUT", path, Map.of(), body, timeout);
  }

  Response patch(String path, JsonNode body) throws InterruptedException {
    return send("PATCH", path, Map.of(), body, timeout);
  }

  Response delete(String path) throws InterruptedException {
    return send("DELETE", path, Map.of(), null, timeout);
  }

  /** An answer with a raw body (config content), and its headers keyed in lower case. */
  record RawResponse(int status, byte[] body, Map<String, String> headers) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /**
   * A request whose body and answer are raw bytes rather than JSON (config content). Errors come
   * out as {@link CliException}s, as for every other call.
   */
  RawResponse raw(String method, String path, Map<String, String> query, byte[] body, Map<String, String> headers,
      Duration timeout) throws InterruptedException {
    StringJoiner q = new StringJoiner("&", "?", "");
    q.setEmptyValue("");
    query.forEach((k, v) -> q.add(encode(k) + "=" + encode(v)));
    HttpRequest.Builder req = HttpRequest.newBuilder(server.base().resolve(path + q)).timeout(timeout)
        .header("User-Agent", "lodestar-cli/" + Main.version());
    headers.forEach(req::header);
    req.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    HttpResponse<byte[]> res;
    try {
      res = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new CliException.Unreachable(server, describe(e));
    } catch (UnresolvedAddressException e) {
      throw new CliException.Unreachable(server, "unknown host");
    }
    Map<String, String> h = new LinkedHashMap<>();
    res.headers().map().forEach((k, v) -> {
      if (!v.isEmpty()) {
        h.put(k.toLowerCase(Locale.ROOT), v.get(0));
      }
    });
    byte[] bytes = res.body() == null ? new byte[0] : res.body();
    if (res.statusCode() >= 400) {
      String text = new String(bytes, StandardCharsets.UTF_8);
      throw error(res.statusCode(), parse(text), text);
    }
    return new RawResponse(res.statusCode(), bytes, h);
  }

  /** Builds {@code /v1/a/b} from raw segments, percent-encoding each one. */
  static String path(String... segments) {
    StringBuilder b = new StringBuilder();
    for (String s : segments) {
      b.append('/').append(encode(s));
    }
    return b.toString();
  }

  private static String encode(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
      int c = x & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '@') {
        b.append((char) c);
      } else {
        b.append('%').append(String.format("%02X", c));
      }
    }
    return b.toString();
  }

  private Response send(String method, String path, Map<String, String> query, JsonNode body, Duration timeout)
      throws InterruptedException {
    StringJoiner q = new StringJoiner("&", "?", "");
    q.setEmptyValue("");
    query.forEach((k, v) -> q.add(encode(k) + "=" + encode(v)));
    URI uri = server.base().resolve(path + q);
    HttpRequest.Builder req = HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Accept", "application/json")
        .header("User-Agent", "lodestar-cli/" + Main.version());
    if (body != null) {
      req.header("Content-Type", "application/json");
      req.method(method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    } else if (method.equals("POST") || method.equals("PUT")) {
      req.method(method, HttpRequest.BodyPublishers.ofString("", StandardCharsets.UTF_8));
    } else {
      req.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> res;
    try {
      res = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new CliException.Unreachable(server, describe(e));
    } catch (UnresolvedAddressException e) {
      throw new CliException.Unreachable(server, "unknown host");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    res.headers().map().forEach((k, v) -> {
      if (!v.isEmpty()) {
        headers.put(k.toLowerCase(Locale.ROOT), v.get(0));
      }
    });
    String text = res.body() == null ? "" : res.body();
    JsonNode json = parse(text);
    if (res.statusCode() >= 400) {
      throw error(res.statusCode(), json, text);
    }
    if (json == null) {
      throw new CliException(CliException.SERVER_ERROR,
          "the server at " + server + " answered " + method + " " + path + " with something that is not JSON: " + snippet(text));
    }
    return new Response(res.statusCode(), json, text, headers);
  }

  private static JsonNode parse(String text) {
    if (text.isBlank()) {
      return MissingNode.getInstance();
    }
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      return null;
    }
  }

  private static CliException error(int status, JsonNode json, String text) {
    JsonNode e = json == null ? MissingNode.getInstance() : json.path("error");
    if (e.isObject()) {
      return new CliException.ServerError(status, textOrNull(e.path("code")), textOrNull(e.path("message")),
          textOrNull(e.path("field")));
    }
    if (e.isTextual()) {  // {"error": "message"}
      return new CliException.ServerError(status, null, e.asText(), null);
    }
    String what = "the server answered HTTP " + status;
    if (!text.isBlank()) {
      what += ": " + snippet(text);
    }
    return new CliException.ServerError(status, null, what, null);
  }

  private static String textOrNull(JsonNode n) {
    return n.isMissingNode() || n.isNull() ? null : n.asText();
  }

  private static String snippet(String text) {
    String s = text.strip().replaceAll("\\s+", " ");
    return s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }

  /** A short, lower-case reason for a transport failure, e.g. "connection refused". */
  static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof HttpConnectTimeoutException) {
        return "connection timed out";
      }
      if (t instanceof HttpTimeoutException) {
        return "no answer within the timeout";
      }
      if (t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
        return "unknown host";
      }
      if (t instanceof java.nio.channels.ClosedChannelException) {
        return "connection closed";
      }
      if (t instanceof javax.net.ssl.SSLException) {
        return "TLS failure (" + lower(t.getMessage()) + ")";
      }
      if (t instanceof ConnectException) {
        String m = t.getMessage();
        if (m == null || m.toLowerCase(Locale.ROOT).contains("refused")) {
          // the JDK often leaves the message empty; look deeper before assuming
          for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
            if (c instanceof UnresolvedAddressException) {
              return "unknown host";
            }
            if (c.getMessage() != null && !c.getMessage().toLowerCase(Locale.ROOT).contains("refused")) {
              return lower(c.getMessage());
            }
          }
          return "connection refused";
        }
        return lower(m);
      }
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return lower(t.getMessage());
      }
    }
    return e.getClass().getSimpleName();
  }

  private static String lower(String m) {
    if (m == null || m.isEmpty()) {
      return "unknown error";
    }
    return Character.toLowerCase(m.charAt(0)) + m.substring(1);
  }
}
