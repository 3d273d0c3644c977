package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.server.LodestarServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C on {@code register --keepalive}: a real process and a real SIGINT; it deregisters and exits 0. */
class KeepaliveSignalTest {
  // HTTP/1.1: the JDK client's default h2c upgrade (deprecated by RFC 9113) can fail a call
  private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir Path dataDir;

  @Test
  void ctrlCDeregistersAndExitsZero() throws Exception {
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dataDir).build().start()) {
      String address = "127.0.0.1:" + server.port();
      Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), "io.lodestar.cli.Main", "register", "sigint",
          "--host", "10.0.0.9", "--port", "8080", "--keepalive", "--server", address)).start();
      BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
      StringBuilder seen = new StringBuilder();
      String line;
      while ((line = err.readLine()) != null && !line.contains("press Ctrl-C")) {
        seen.append(line).append('\n');
      }
      assertThat(line).as("stderr so far: " + seen).isNotNull();
      assertThat(instances(address)).contains("10.0.0.9");

      new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
      // Generous: only a hang fails; the exit status is what is checked.
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String rest = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("exit status; stderr: " + rest).isEqualTo(0);
      assertThat(rest).contains("deregistered 10.0.0.9:8080");
      assertThat(instances(address)).doesNotContain("10.0.0.9");
    }
  }

  private static String instances(String address) throws Exception {
    return HTTP1.send(HttpRequest.newBuilder(URI.create("http://" + address
        + "/v1/namespaces/default/services/sigint/instances")).build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
