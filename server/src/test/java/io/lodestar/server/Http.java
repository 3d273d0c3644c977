package io.lodestar.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A tiny REST client for tests: real HTTP to a real server. */
public final class Http {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final HttpClient PLAIN = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final HttpClient client;
  private final String base;
  private final String token;

  public Http(int port) {
    this(PLAIN, "http://127.0.0.1:" + port, null);
  }

  private Http(HttpClient client, String base, String token) {
    this.client = client;
    this.base = base;
    this.token = token;
  }

  /** HTTPS to a TLS node, with this TLS context (trust, and a client certificate for mutual TLS). */
  public static Http tls(int port, javax.net.ssl.SSLContext ssl) {
    return new Http(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ssl)
        .connectTimeout(Duration.ofSeconds(5)).build(), "https://127.0.0.1:" + port, null);
  }

  /** The same server, sending {@code Authorization: Bearer token} on every request. */
  public Http withToken(String token) {
    return new Http(client, base, token);
  }

  /** A GET with extra headers. */
  public Response get(String path, java.util.Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).GET();
    headers.forEach(b::header);
    return send(b);
  }

  public record Response(int status, String body, java.net.http.HttpHeaders headers) {
    public JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }
  }

  public Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  public Response post(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  public Response put(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  public Response patch(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).method("PATCH", HttpRequest.BodyPublishers.ofString(body)));
  }

  public Response delete(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
  }

  public Response send(HttpRequest.Builder b) {
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(60)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body(), r.headers());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
