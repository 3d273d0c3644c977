package io.lodestar.compat.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.server.LodestarServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's Prometheus (built without Consul SD) discovers Lodestar's instances through
 * {@code http_sd_configs} on {@code /v1/prometheus/sd}: targets appear and disappear.
 */
class PrometheusHttpSdTest {
  static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static LodestarServer server;
  static Process prometheus;
  static int prometheusPort;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws IOException {
    Assumptions.assumeTrue(Files.isExecutable(PROMETHEUS),
        "SKIPPED: /usr/bin/prometheus is missing; install Debian's prometheus package (.ci/run does) to run this test");
    server = LodestarServer.builder().port(0).dataDir(dir.resolve("lodestar")).build().start();
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      prometheusPort = s.getLocalPort();
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: lodestar
            http_sd_configs:
              - url: http://127.0.0.1:%d/v1/prometheus/sd?service=scraped
                refresh_interval: 1s
        """.formatted(server.port()));
    List<String> cmd = new ArrayList<>(List.of(PROMETHEUS.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + prometheusPort));
    prometheus = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (prometheus != null) {
      prometheus.destroy();
      prometheus.waitFor();
    }
    if (server != null) {
      server.close();
    }
  }

  static JsonNode activeTargets() {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + prometheusPort
          + "/api/v1/targets?state=active")).build(), HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(r.body()).get("data").get("activeTargets");
    } catch (IOException e) {
      return JSON.createArrayNode();  // not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String put(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void targetsAppearWithTheirLabelsAndDisappear() throws Exception {
    // the instance is the Lodestar server itself, so Prometheus really scrapes /metrics from it
    put("/v1/agent/service/register", "{\"Name\":\"scraped\",\"ID\":\"scraped-1\",\"Address\":\"127.0.0.1\","
        + "\"Port\":" + server.port() + ",\"Meta\":{\"version\":\"1.2\",\"team-name\":\"core\"}}");
    put("/v1/agent/service/register", "{\"Name\":\"ignored\",\"ID\":\"ignored-1\",\"Port\":9}");

    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> activeTargets().size() == 1);
    JsonNode target = activeTargets().get(0);
    JsonNode labels = target.get("discoveredLabels");
    assertThat(labels.get("__address__").asText()).isEqualTo("127.0.0.1:" + server.port());
    assertThat(labels.get("__meta_lodestar_service").asText()).isEqualTo("scraped");
    assertThat(labels.get("__meta_lodestar_namespace").asText()).isEqualTo("default");
    assertThat(labels.get("__meta_lodestar_instance_id").asText()).isEqualTo("scraped-1");
    assertThat(labels.get("__meta_lodestar_health").asText()).isEqualTo("healthy");
    assertThat(labels.get("__meta_lodestar_metadata_version").asText()).isEqualTo("1.2");
    assertThat(labels.get("__meta_lodestar_metadata_team_name").asText()).isEqualTo("core");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> activeTargets().get(0).get("health").asText().equals("up"));

    put("/v1/agent/service/deregister/scraped-1", "");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> activeTargets().isEmpty());
  }
}
