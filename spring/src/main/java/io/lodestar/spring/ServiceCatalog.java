package io.lodestar.spring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * The names of a namespace's services, for {@code DiscoveryClient.getServices()}: the SDK stream
 * carries instance lists of services one subscribes to, not the catalogue, so this one call asks a
 * server's REST API ({@code GET /v1/namespaces/{ns}/services}), trying each listed server in turn.
 * It is not on any per-call path (tools and gateways' locators use it).
 */
public class ServiceCatalog {
  private static final Log log = LogFactory.getLog(ServiceCatalog.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<String> servers;
  private final HttpClient http;
  private final String scheme;

  public ServiceCatalog(List<String> servers) {
    this(servers, null);
  }

  /** With {@code tls} (the SDK's settings), over https; null for plaintext. */
  public ServiceCatalog(List<String> servers, io.lodestar.client.ClientTls tls) {
    this.servers = List.copyOf(servers);
    // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call with
    // "EOF reached while reading"
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(3));
    if (tls != null) {
      b.sslContext(tls.sslContext());
    }
    this.http = b.build();
    this.scheme = tls == null ? "http://" : "https://";
  }

  public List<String> services(String namespace) {
    for (String server : servers) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(scheme + server + "/v1/namespaces/"
            + URLEncoder.encode(namespace, StandardCharsets.UTF_8) + "/services")).timeout(Duration.ofSeconds(5))
            .GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          log.debug("services of " + namespace + " from " + server + ": HTTP " + r.statusCode());
          continue;
        }
        List<String> names = new ArrayList<>();
        for (JsonNode s : JSON.readTree(r.body()).path("services")) {
          names.add(s.path("name").asText());
        }
        return names;
      } catch (java.io.IOException e) {
        log.debug("services of " + namespace + " from " + server + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return List.of();
  }
}
