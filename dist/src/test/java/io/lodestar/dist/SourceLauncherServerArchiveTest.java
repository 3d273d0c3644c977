package io.lodestar.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source tree's launcher ({@code ./lodestar server}) and its class-data archive: the first start
 * after a build records it under a name of its own when it exits, the next start checks it in a JVM
 * of its own and puts it in place (only if the recording JVM served), later starts map it. A recording cut short (its writer killed,
 * a full disk) once crashed every later start with SIGBUS; now it costs one start its speed. A
 * Java agent on JDK 17 to 23 turns it off (JDK-8343427).
 * The checkout is stood in for by the launcher and the released jars in the source tree's layout
 * ({@code server/target/lodestar-server-*.jar}, {@code server/target/lib}), so no build runs.
 */
class SourceLauncherServerArchiveTest {
  @TempDir Path dir;

  @Test
  void theServersClassArchiveIsCheckedBeforeUseAndACutShortOneNeverBreaksAStart() throws Exception {
    Path root = checkout();
    Path target = root.resolve("server/target");

    // a first call that never serves (--help) records a few hundred classes: thrown away, and the
    // next start runs without an archive and records again (a kept one made every start twice as slow).
    // It goes through a link to the launcher elsewhere (~/bin, say), which finds its checkout
    Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("bin")).resolve("lodestar"),
        root.resolve("lodestar"));
    assertThat(call(link, "server", "--help")).contains("Usage: lodestar server");
    List<Path> help = files(target, ".tmp");
    assertThat(help).as("what --help recorded").hasSize(1);
    startAndStop(root, Map.of(), pid -> assertThat(maps(pid)).doesNotContain("lodestar-server.jsa"));
    List<Path> recordings = files(target, ".tmp");
    assertThat(recordings).as("the first start's recording").hasSize(1).doesNotContain(help.get(0));
    assertThat(files(target, ".jsa")).isEmpty();

    // cut short: the next start throws it away, runs without and records again
    Path cut = recordings.get(0);
    byte[] whole = Files.readAllBytes(cut);
    Files.write(cut, Arrays.copyOf(whole, whole.length / 3));
    startAndStop(root, Map.of());
    assertThat(files(target, ".tmp")).doesNotContain(cut).hasSize(1);
    assertThat(files(target, ".jsa")).isEmpty();

    // checked and put in place: -Xshare:on fails a JVM that cannot map it
    startAndStop(root, Map.of("JAVA_OPTS", "-Xshare:on"));
    assertThat(files(target, ".tmp")).isEmpty();
    assertThat(files(target, ".ready")).isEmpty();
    assertThat(files(target, ".jsa")).hasSize(1);

    // a Java agent that hooks class loading: on JDK 17 to 23 the archive is left out (JDK-8343427:
    // a hooked JVM that maps it crashed at its first request), and the node serves
    Path log = startAndStop(root, Map.of("JAVA_OPTS", "-javaagent:" + ClassHookAgent.jar(dir)));
    if (feature(Path.of(System.getProperty("java.home"))) < 24) {
      assertThat(Files.readString(log)).contains("class-data archive off");
    }
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
    }
  }

  /**
   * On JDK 25 onwards the launcher keeps an AOT cache ({@code lodestar-server.aot}) instead, by the
   * same scheme: recorded when the first start stops, checked (-XX:AOTMode=on) by the next, which
   * then maps it. Runs only where a JDK 25 or later is installed (CI has 17 alone): {@code JDK25_HOME},
   * else the first such JDK under /usr/lib/jvm.
   */
  @Test
  void onJdk25TheServersAotCacheIsRecordedCheckedAndMapped() throws Exception {
    Path java = jdk25().map(home -> home.resolve("bin/java")).orElse(null);
    assumeTrue(java != null, "no JDK 25 or later installed");
    Path root = checkout();
    Path target = root.resolve("server/target");
    Map<String, String> env = Map.of("JAVA", java.toString());

    startAndStop(root, env, pid -> { });
    List<Path> recordings = aotFiles(target, ".tmp");
    assertThat(recordings).as("the first start's recording").hasSize(1);
    assertThat(aotFiles(target, ".aot")).isEmpty();

    // cut short: the next start throws it away, runs without and records again
    Path cut = recordings.get(0);
    byte[] whole = Files.readAllBytes(cut);
    Files.write(cut, Arrays.copyOf(whole, whole.length / 3));
    startAndStop(root, env, pid -> assertThat(maps(pid)).doesNotContain("lodestar-server.aot"));
    assertThat(aotFiles(target, ".tmp")).doesNotContain(cut).hasSize(1);
    assertThat(aotFiles(target, ".aot")).isEmpty();

    // checked and put in place, and the serving JVM maps it
    startAndStop(root, env, pid -> assertThat(maps(pid)).contains(target.resolve("lodestar-server.aot").toString()));
    assertThat(aotFiles(target, ".tmp")).isEmpty();
    assertThat(aotFiles(target, ".aot")).hasSize(1);
    assertThat(files(target, "")).as("no class-data archive beside it").isEmpty();
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
    }
  }

  private static java.util.Optional<Path> jdk25() throws IOException {
    String given = System.getenv("JDK25_HOME");
    if (given != null && !given.isBlank()) {
      return java.util.Optional.of(Path.of(given)).filter(SourceLauncherServerArchiveTest::isJdk25);
    }
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return java.util.Optional.empty();
    }
    try (var homes = Files.list(jvms)) {
      return homes.filter(SourceLauncherServerArchiveTest::isJdk25).sorted().findFirst();
    }
  }

  private static boolean isJdk25(Path home) {
    return Files.isExecutable(home.resolve("bin/java")) && feature(home) >= 25;
  }

  /** The JDK's feature release from its release file, as the launcher reads it; 0 if it has none. */
  private static int feature(Path home) {
    try {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)")
          .matcher(Files.readString(home.resolve("release")));
      return m.find() ? Integer.parseInt(m.group(1)) : 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static String maps(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "maps"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The launcher and the released jars in the source tree's layout, the jar older than any recording. */
  private Path checkout() throws Exception {
    Path lib = unpackedLib();
    Path root = Files.createDirectories(dir.resolve("checkout"));
    Files.copy(ReleaseTest.REPO.resolve("lodestar"), root.resolve("lodestar"));
    root.resolve("lodestar").toFile().setExecutable(true);
    Path target = Files.createDirectories(root.resolve("server/target"));
    Path serverJar;
    try (var jars = Files.list(lib)) {
      serverJar = jars.filter(p -> p.getFileName().toString().startsWith("lodestar-server-")).findFirst().orElseThrow();
    }
    Path jar = Files.copy(serverJar, target.resolve(serverJar.getFileName()));
    jar.toFile().setLastModified(System.currentTimeMillis() - 60_000);  // built before any recording
    Files.createSymbolicLink(target.resolve("lib"), lib);
    return root;
  }

  private Path unpackedLib() throws Exception {
    Path release = Files.createDirectories(dir.resolve("release"));
    Process tar = new ProcessBuilder("tar", "xzf", System.getProperty("lodestar.tarball")).directory(release.toFile())
        .redirectErrorStream(true).start();
    assertThat(tar.waitFor(120, TimeUnit.SECONDS) && tar.exitValue() == 0).as("tarball unpacks").isTrue();
    try (var entries = Files.list(release)) {
      return entries.filter(Files::isDirectory).findFirst().orElseThrow().resolve("lib");
    }
  }

  /** {@code command} in the test's directory, with only the JVM's directory and the system's on its PATH. */
  private ProcessBuilder launch(List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
    pb.environment().put("HOME", dir.toString());
    return pb;
  }

  /** {@code LAUNCHER ARGS} to its end, with the environment a start has; what it printed. */
  private String call(Path launcher, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(launcher.toString()));
    command.addAll(List.of(args));
    Process p = launch(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("%s finishes", command).isTrue();
    assertThat(p.exitValue()).as("%s: %s", command, out).isZero();
    return out;
  }

  /** {@code ./lodestar server} to /health and a SIGTERM, after which a recording JVM writes its archive. */
  private Path startAndStop(Path root, Map<String, String> env) throws Exception {
    return startAndStop(root, env, pid -> { });
  }

  /** As above, with {@code whileUp} given the serving JVM's pid (the launcher execs it) once it is ready. */
  private Path startAndStop(Path root, Map<String, String> env, java.util.function.LongConsumer whileUp)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile(dir, "server", ".log");
    ProcessBuilder pb = launch(List.of(root.resolve("lodestar").toString(), "server", "--port",
        Integer.toString(port), "--data-dir", dir.resolve("data").toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process server = pb.start();
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      // a start that records an archive, on a loaded machine, can take minutes
      await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
          .failFast("the server exited: " + log, () -> !server.isAlive())
          .until(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
              HttpResponse.BodyHandlers.ofString()).body().contains("UP"));
      whileUp.accept(server.pid());
    } finally {
      server.destroy();
      assertThat(server.waitFor(5, TimeUnit.MINUTES)).as("server stops on SIGTERM").isTrue();
    }
    assertThat(server.exitValue()).as("exit status after SIGTERM: %s", Files.readString(log)).isIn(0, 143);
    assertThat(Files.readString(log)).contains("Lodestar stopped");
    return log;
  }

  private static List<Path> aotFiles(Path target, String suffix) throws IOException {
    try (var files = Files.list(target)) {
      return files.filter(p -> p.getFileName().toString().startsWith("lodestar-server.aot")
          && p.toString().endsWith(suffix)).toList();
    }
  }

  private static List<Path> files(Path target, String suffix) throws IOException {
    try (var files = Files.list(target)) {
      return files.filter(p -> p.getFileName().toString().startsWith("lodestar-server.jsa")
          && p.toString().endsWith(suffix)).toList();
    }
  }
}
