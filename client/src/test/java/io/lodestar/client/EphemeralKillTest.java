package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ephemeral registrations are answered once written to the log file, before it is synced: the
 * file's pages belong to the kernel, so kill -9 of the server loses none of them. A real server
 * process and the real SDK; the registering client is gone before the restart, so nothing
 * re-asserts what the server kept.
 */
class EphemeralKillTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void acknowledgedEphemeralRegistrationsSurviveKillMinus9OfTheServer(@TempDir Path data) throws Exception {
    int port = freePort();
    List<Instance> acknowledged = new ArrayList<>();
    Process server = start(port, data);
    try {
      LodestarClient owner = LodestarClient.builder().servers("127.0.0.1:" + port)
          .requestTimeout(Duration.ofSeconds(30)).build();
      try {
        for (int n = 0; n < 40; n++) {
          acknowledged.add(owner.register(RegistrationSpec.builder().service(n % 2 == 0 ? "cart" : "pay")
              .id("e-" + n).host("10.3.0." + n).port(8080).ttlSeconds(60).build()));
        }
        server.destroyForcibly(); // kill -9 right after the last answer
        server.waitFor();
      } finally {
        owner.close(); // before the restart: it cannot register anything again
      }

      server = start(port, data);
      try (LodestarClient observer = LodestarClient.builder().servers("127.0.0.1:" + port)
          .requestTimeout(Duration.ofSeconds(30)).build()) {
        List<String> stored = new ArrayList<>();
        observer.fetch("default", "cart").instances().forEach(i -> stored.add(i.id()));
        observer.fetch("default", "pay").instances().forEach(i -> stored.add(i.id()));
        assertThat(stored).containsExactlyInAnyOrderElementsOf(acknowledged.stream().map(Instance::id).toList());
        // and no revision answered before the kill is given to a change after it
        long newest = acknowledged.stream().mapToLong(Instance::revision).max().orElseThrow();
        Instance after = observer.register(RegistrationSpec.builder().service("cart").id("after").host("10.3.1.1")
            .port(8080).ttlSeconds(60).build());
        assertThat(after.revision()).isGreaterThan(newest);
      }
    } finally {
      server.destroyForcibly();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** A server JVM of its own on the test class path; returns once /health answers 200. */
  private static Process start(int port, Path data) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx256m", "-Dcom.linecorp.armeria.warnNettyVersions=false", "-cp",
        System.getProperty("java.class.path"), "io.lodestar.server.Main", "--port", Integer.toString(port),
        "--data-dir", data.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolveSibling(data.getFileName() + ".log").toFile()))
        .start();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
        .timeout(Duration.ofSeconds(5)).build();
    // a start on a loaded machine can take minutes; the wait ends as soon as it answers
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
      if (!p.isAlive()) {
        throw new IllegalStateException("server exited with " + p.exitValue());
      }
      return HTTP.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    });
    return p;
  }

  /**
   * A free port outside the kernel's ephemeral range (32768–60999), so that no outgoing connection
   * takes it between the kill and the restart.
   */
  private static int freePort() {
    for (int attempt = 0; attempt < 200; attempt++) {
      int p = ThreadLocalRandom.current().nextInt(20_000, 32_000);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), p), 1);
        return p;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IllegalStateException("no free port");
  }
}
