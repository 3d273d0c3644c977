package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The server's REST API, one blocking call at a time. Errors come out as {@link CliException}s.
 *
 * <p>Over {@link HttpURLConnection}, not {@code java.net.http.HttpClient}: a CLI call is a fresh
 * JVM, and the newer client (its selector thread, its TLS setup) costs about four times the CPU
 * of the whole rest of a call to start (docs/benchmarks.md, "The command line").
 */
final class LodestarApi {
  static {
    // a POST is not repeated behind our back when a kept-alive connection turns out closed
    System.setProperty("sun.net.http.retryPost", "false");
  }

  static final String INDEX_HEADER = "X-Lodestar-Index";

  private final ServerAddress server;
  private final Duration timeout;
  private final int connectTimeoutMillis;
  /** Null for plain http. */
  private final javax.net.ssl.SSLContext tls;
  private final String token;

  LodestarApi(ServerAddress server, Duration timeout) {
    this(server, timeout, null, null);
  }

  /** @param token sent as {@code Authorization: Bearer} on every call; null or empty for none */
  LodestarApi(ServerAddress server, Duration timeout, javax.net.ssl.SSLContext tls, String token) {
    this.server = server;
    this.tls = tls;
    this.token = token == null || token.isBlank() ? null : token.trim();
    this.timeout = timeout;
    this.connectTimeoutMillis = (int) Math.min(timeout.toMillis(), 5_000);
  }

  /**
   * {@link HttpURLConnection} refuses PATCH, so the few verbs that send one (isolate, restore,
   * weight) pay for {@code java.net.http} themselves; every other call stays off it.
   */
  private Exchange patch(URI uri, Map<String, String> headers, byte[] body, Duration timeout)
      throws InterruptedException {
    // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call with
    // "EOF reached while reading"; one call per verb gains nothing from HTTP/2
    java.net.http.HttpClient.Builder hb = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofMillis(connectTimeoutMillis));
    if (tls != null) {
      hb.sslContext(tls);
    }
    java.net.http.HttpClient http = hb.build();
    java.net.http.HttpRequest.Builder req = java.net.http.HttpRequest.newBuilder(uri).timeout(timeout)
        .header("User-Agent", "lodestar-cli/" + Main.version())
        .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofByteArray(body == null ? new byte[0] : body));
    headers.forEach(req::header);
    try {
      java.net.http.HttpResponse<byte[]> res = http.send(req.build(),
          java.net.http.HttpResponse.BodyHandlers.ofByteArray());
      Map<String, String> h = new LinkedHashMap<>();
      res.headers().map().forEach((k, v) -> {
        if (!v.isEmpty()) {
          h.put(k.toLowerCase(Locale.ROOT), v.get(0));
        }
      });
      return new Exchange(res.statusCode(), h, res.body() == null ? new byte[0] : res.body());
    } catch (java.net.http.HttpConnectTimeoutException e) {
      throw new CliException.Unreachable(server, "connection timed out");
    } catch (java.net.http.HttpTimeoutException e) {
      throw new CliException.Unreachable(server, "no answer within the timeout");
    } catch (IOException e) {
      throw new CliException.Unreachable(server, describe(e));
    }
  }

  /** One exchange's status, headers (lower-case names, first value) and body. */
  private record Exchange(int status, Map<String, String> headers, byte[] body) {}

  private Exchange exchange(String method, URI uri, Map<String, String> headers, byte[] body, Duration timeout)
      throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (token != null) {
      headers = new LinkedHashMap<>(headers);
      headers.put("Authorization", "Bearer " + token);
    }
    if (method.equals("PATCH")) {
      return patch(uri, headers, body, timeout);
    }
    HttpURLConnection c;
    try {
      c = (HttpURLConnection) uri.toURL().openConnection();
      if (tls != null && c instanceof javax.net.ssl.HttpsURLConnection https) {
        https.setSSLSocketFactory(tls.getSocketFactory());
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new CliException.Unreachable(server, describe(e));
    }
    try {
      c.setRequestMethod(method);
      c.setInstanceFollowRedirects(false);
      c.setUseCaches(false);
      c.setConnectTimeout(connectTimeoutMillis);
      c.setReadTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
      c.setRequestProperty("User-Agent", "lodestar-cli/" + Main.version());
      headers.forEach(c::setRequestProperty);
      boolean sends = body != null || method.equals("POST") || method.equals("PUT");
      if (sends) {
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body == null ? 0 : body.length);
      }
      try {
        c.connect();
      } catch (SocketTimeoutException e) {
        throw new CliException.Unreachable(server, "connection timed out");
      }
      if (sends) {
        try (OutputStream out = c.getOutputStream()) {
          out.write(body == null ? new byte[0] : body);
        }
      }
      int status = c.getResponseCode();
      Map<String, String> h = new LinkedHashMap<>();
      c.getHeaderFields().forEach((k, v) -> {
        if (k != null && !v.isEmpty()) {
          h.put(k.toLowerCase(Locale.ROOT), v.get(0));
        }
      });
      byte[] bytes;
      try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
        bytes = in == null ? new byte[0] : in.readAllBytes();
      }
      return new Exchange(status, h, bytes);
    } catch (SocketTimeoutException e) {
      throw new CliException.Unreachable(server, "no answer within the timeout");
    } catch (IOException e) {
      throw new CliException.Unreachable(server, describe(e));
    } catch (UnresolvedAddressException e) {
      throw new CliException.Unreachable(server, "unknown host");
    }
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
    Exchange res = exchange(method, server.base().resolve(path + q), headers, body, timeout);
    if (res.status() >= 400) {
      String text = new String(res.body(), StandardCharsets.UTF_8);
      throw error(res.status(), parse(text), text);
    }
    return new RawResponse(res.status(), res.body(), res.headers());
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
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Accept", "application/json");
    if (body != null) {
      headers.put("Content-Type", "application/json");
    }
    Exchange res = exchange(method, uri, headers, body == null ? null : Json.write(body).getBytes(StandardCharsets.UTF_8),
        timeout);
    String text = new String(res.body(), StandardCharsets.UTF_8);
    JsonNode json = parse(text);
    if (res.status() >= 400) {
      throw error(res.status(), json, text);
    }
    if (json == null) {
      throw new CliException(CliException.SERVER_ERROR,
          "the server at " + server + " answered " + method + " " + path + " with something that is not JSON: " + snippet(text));
    }
    return new Response(res.status(), json, text, res.headers());
  }

  private static JsonNode parse(String text) {
    if (text.isBlank()) {
      return MissingNode.getInstance();
    }
    try {
      return Json.read(text);
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
    if (status == 401) {
      // HttpURLConnection drops the body of a 401 to a streamed POST: say what the server would
      return new CliException.ServerError(status, "unauthenticated",
          "the server needs a valid token: pass --token or set LODESTAR_TOKEN", null);
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
      if (t instanceof SocketTimeoutException) {
        return "no answer within the timeout";
      }
      if (t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
        return "unknown host";
      }
      if (t instanceof java.nio.channels.ClosedChannelException) {
        return "connection closed";
      }
      if (t instanceof javax.net.ssl.SSLException) {
        return tlsFailure(e);
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
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      // TLS 1.3: a server that refuses the client's certificate says so after the handshake, and
      // the request's write can fail first; HttpURLConnection then drops the cause ("error writing
      // to server"). The likely fix is worth naming.
      if (m.contains("error writing to server") || m.contains("broken pipe")) {
        return "the server closed the connection while the request was sent (if it requires a client "
            + "certificate, mutual TLS: --tls-cert FILE --tls-key FILE)";
      }
      if (m.contains("unexpected end of file")) {
        return "the server closed the connection without answering (if it serves TLS: --tls-ca FILE or https://)";
      }
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return lower(t.getMessage());
      }
    }
    return e.getClass().getSimpleName();
  }

  /** What went wrong in a TLS handshake, and the option that fixes it. */
  private static String tlsFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (t instanceof java.security.cert.CertPathBuilderException || m.contains("pkix path")
          || m.contains("unable to find valid certification path")) {
        return "TLS: the server's certificate is not trusted; give the CA that issued it with --tls-ca FILE";
      }
      if (m.contains("no subject alternative") || m.contains("no name matching")) {
        return "TLS: the server's certificate does not name " + "the host in --server (" + t.getMessage() + ")";
      }
      if (m.contains("certificate_required") || m.contains("bad_certificate") || m.contains("unknown_ca")) {
        return "TLS: the server wants a client certificate it trusts (mutual TLS): --tls-cert FILE --tls-key FILE";
      }
      if (m.contains("unsupported or unrecognized ssl message") || m.contains("plaintext connection")) {
        return "TLS: the server does not speak TLS on this port; use http:// (without --tls-ca)";
      }
    }
    return "TLS failure (" + lower(e.getMessage()) + ")";
  }

  private static String lower(String m) {
    if (m == null || m.isEmpty()) {
      return "unknown error";
    }
    return Character.toLowerCase(m.charAt(0)) + m.substring(1);
  }
}
