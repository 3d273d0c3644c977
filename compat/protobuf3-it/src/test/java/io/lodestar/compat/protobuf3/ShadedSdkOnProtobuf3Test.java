package io.lodestar.compat.protobuf3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.client.ServiceEvent;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An application pinned to protobuf-java 3.25 (this module's class path: lodestar-client-shaded and
 * protobuf-java 3.25.x, nothing else of protobuf) registers and discovers through a real server,
 * which runs in its own JVM from server/target with its own protobuf 4, as a deployed server does.
 */
class ShadedSdkOnProtobuf3Test {
  static final Path SERVER = Path.of("..", "..", "server", "target").toAbsolutePath().normalize();
  static Process server;
  static int port;
  static Path dataDir;

  @BeforeAll
  static void startServer() throws Exception {
    port = freePort();
    int raftPort = freePort();
    dataDir = Files.createTempDirectory("lodestar-protobuf3-it");
    Path jar;
    try (var s = Files.list(SERVER)) {
      jar = s.filter(p -> p.getFileName().toString().matches("lodestar-server-.*\\.jar"))
          .filter(p -> !p.getFileName().toString().contains("-tests")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no server jar in " + SERVER + ": package server first"));
    }
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    server = new ProcessBuilder(javaBin.toString(), "-XX:+UseSerialGC", "-Dcom.linecorp.armeria.warnNettyVersions=false",
        "-cp", jar + java.io.File.pathSeparator + SERVER.resolve("lib") + "/*", "io.lodestar.server.Main",
        "--port", Integer.toString(port), "--raft-port", Integer.toString(raftPort),
        "--data-dir", dataDir.toString())
        .redirectErrorStream(true).redirectOutput(Path.of("target", "server.log").toFile()).start();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.destroy();
      if (!server.waitFor(30, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
    if (dataDir != null) {
      try (var files = Files.walk(dataDir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void theApplicationsProtobufIsItsOwnOldOne() throws Exception {
    assertThat(protobufVersion()).startsWith("3.25.");
    // a protobuf 4 class the 3.x runtime does not have
    assertThatThrownBy(() -> Class.forName("com.google.protobuf.RuntimeVersion"))
        .isInstanceOf(ClassNotFoundException.class);
    // the SDK's protobuf and generated types are relocated inside its jar, not on the application's path
    assertThat(Class.forName("io.lodestar.client.shaded.protobuf.Message").getProtectionDomain().getCodeSource()
        .getLocation().getPath()).contains("lodestar-client-shaded");
    assertThatThrownBy(() -> Class.forName("io.lodestar.api.v1.Instance")).isInstanceOf(ClassNotFoundException.class);
    // and the application's protobuf 3 works next to it
    Struct s = Struct.newBuilder().putFields("zone", Value.newBuilder().setStringValue("a").build()).build();
    assertThat(Struct.parseFrom(s.toByteArray()).getFieldsOrThrow("zone").getStringValue()).isEqualTo("a");
  }

  @Test
  void registersAndDiscoversThroughARealServer() {
    try (LodestarClient client = LodestarClient.builder().servers(List.of("127.0.0.1:" + port))
        .connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(30)).build()) {
      List<ServiceEvent> events = new CopyOnWriteArrayList<>();
      client.subscribe("pb3-orders", events::add);
      Instance me = client.register(RegistrationSpec.builder().service("pb3-orders").host("10.3.0.7").port(8080)
          .putMetadata("zone", "a").build());
      assertThat(me.id()).isEqualTo("10.3.0.7:8080");
      assertThat(me.metadata()).containsEntry("zone", "a");
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(client.getInstances("pb3-orders")).extracting(Instance::id).containsExactly("10.3.0.7:8080"));
      assertThat(client.selectOne("pb3-orders").host()).isEqualTo("10.3.0.7");
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(events)
          .flatExtracting(ServiceEvent::added).extracting(Instance::id).contains("10.3.0.7:8080"));
      client.deregister("pb3-orders", me.id());
      await().atMost(Duration.ofSeconds(30)).until(() -> client.getInstances("pb3-orders").isEmpty());
    }
  }

  /** The Bundle-Version in the manifest of the jar com.google.protobuf.Message was loaded from. */
  static String protobufVersion() throws Exception {
    URI jar = com.google.protobuf.Message.class.getProtectionDomain().getCodeSource().getLocation().toURI();
    try (java.util.jar.JarFile f = new java.util.jar.JarFile(Path.of(jar).toFile())) {
      return f.getManifest().getMainAttributes().getValue("Bundle-Version");
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
