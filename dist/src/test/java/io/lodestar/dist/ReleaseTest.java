package io.lodestar.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release as a user gets it: the tarball unpacked in an empty directory, far from the source
 * tree, run with nothing but a JVM (no Maven, no sources): {@code bin/lodestar server} reaches
 * /health, the command line works against it, and the README's and docs' marked examples run as
 * written (through a {@code ./lodestar} that is the release's launcher), so the docs cannot drift.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReleaseTest {
  /** The repository root (dist/'s parent): where README.md and docs/ are. */
  static final Path REPO = Path.of("").toAbsolutePath().getParent();
  @TempDir static Path dir;
  Path home;
  Path work;
  Path serverLog;
  Process server;
  String address;

  @BeforeAll
  void unpackAndStart() throws Exception {
    Path tarball = Path.of(System.getProperty("lodestar.tarball"));
    assertThat(tarball).exists();
    run(dir, "tar", "xzf", tarball.toString());
    try (var entries = Files.list(dir)) {
      home = entries.filter(Files::isDirectory).findFirst().orElseThrow();
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    address = "127.0.0.1:" + port;
    work = Files.createDirectory(dir.resolve("work"));
    // the README's ./lodestar is, here, the release's launcher
    Files.createSymbolicLink(work.resolve("lodestar"), home.resolve("bin/lodestar"));
    serverLog = dir.resolve("server.log");
    server = process(work, home.resolve("bin/lodestar").toString(), "server", "--port", Integer.toString(port),
        "--data-dir", work.resolve("data").toString()).redirectErrorStream(true).redirectOutput(serverLog.toFile())
        .start();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
        .until(() -> http.send(HttpRequest.newBuilder(URI.create("http://" + address + "/health")).build(),
            HttpResponse.BodyHandlers.ofString()).body().contains("UP"));
  }

  @AfterAll
  void stop() throws Exception {
    if (server != null) {
      server.destroy();  // SIGTERM: a clean shutdown
      // a first run's JVM writes its class-data archive after the shutdown: slow on a loaded machine
      assertThat(server.waitFor(5, TimeUnit.MINUTES)).as("server stops on SIGTERM").isTrue();
      assertThat(server.exitValue()).as("exit status after SIGTERM").isIn(0, 143);
      assertThat(Files.readString(serverLog)).contains("Lodestar ready", "Lodestar stopped");
    }
  }

  @Test
  void theTarballHoldsWhatAUserNeeds() throws IOException {
    assertThat(home.getFileName().toString()).startsWith("lodestar-");
    for (String f : List.of("bin/lodestar", "conf/lodestar.yaml", "systemd/lodestar.service", "Dockerfile",
        "README.md", "LICENSE")) {
      assertThat(home.resolve(f)).as(f).exists();
    }
    assertThat(Files.isExecutable(home.resolve("bin/lodestar"))).isTrue();
    assertThat(Files.readString(home.resolve("LICENSE"))).contains("Apache License", "Version 2.0");
    try (var jars = Files.list(home.resolve("lib"))) {
      assertThat(jars.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("lodestar-server-"))
          .anyMatch(n -> n.startsWith("lodestar-cli-"));
    }
  }

  @Test
  void theCommandLineWorksAgainstTheReleasedServer() throws Exception {
    String launcher = home.resolve("bin/lodestar").toString();
    assertThat(run(work, launcher, "register", "release-check", "--host", "10.0.0.8", "--port", "8080",
        "--persistent", "--server", address)).contains("10.0.0.8:8080");
    assertThat(run(work, launcher, "instances", "release-check", "--server", address)).contains("10.0.0.8");
    assertThat(Files.isDirectory(work.resolve("data"))).isTrue();
  }

  /**
   * The command line's class-data archive (docs/cli.md, "Start time"): the first call records it
   * under a name of its own, the next checks it and puts it in place, and later calls map it
   * ({@code -Xshare:on} fails a JVM that cannot). A garbled archive and a cut-short recording (its
   * writer killed while writing; mapping one crashes the JVM) cost speed, never a command.
   */
  @Test
  void theCommandLinesClassArchiveIsCheckedBeforeUseAndNeverBreaksACall() throws Exception {
    Path cache = dir.resolve("cds-cache");
    Map<String, String> env = Map.of("LODESTAR_CACHE", cache.toString());
    Map<String, String> mapped = Map.of("LODESTAR_CACHE", cache.toString(), "JAVA_OPTS", "-Xshare:on");
    String launcher = home.resolve("bin/lodestar").toString();
    assertThat(run(env, launcher, "register", "cds-check", "--host", "10.0.0.9", "--port", "8080", "--persistent"))
        .contains("10.0.0.9:8080");
    assertThat(archives(cache, ".tmp")).as("the first call's recording").hasSize(1);
    assertThat(run(env, launcher, "instances", "cds-check")).contains("10.0.0.9:8080");
    assertThat(archives(cache, ".tmp")).isEmpty();
    Path jsa = archives(cache, ".jsa").get(0);
    assertThat(run(mapped, launcher, "instances", "cds-check")).contains("10.0.0.9:8080");

    // garbled: the JVM refuses it and runs without
    jsa.toFile().setWritable(true);
    try (var f = new java.io.RandomAccessFile(jsa.toFile(), "rw")) {
      f.write(new byte[4096]);
    }
    assertThat(run(env, launcher, "instances", "cds-check")).contains("10.0.0.9:8080");

    // cut short: the next call throws the recording away and records again
    Files.delete(jsa);
    run(env, launcher, "services");
    Path tmp = archives(cache, ".tmp").get(0);
    byte[] whole = Files.readAllBytes(tmp);
    Files.write(tmp, java.util.Arrays.copyOf(whole, whole.length / 3));
    assertThat(run(env, launcher, "instances", "cds-check")).contains("10.0.0.9:8080");
    assertThat(archives(cache, ".tmp")).doesNotContain(tmp).hasSize(1);
    assertThat(run(env, launcher, "instances", "cds-check")).contains("10.0.0.9:8080");
    assertThat(archives(cache, ".jsa")).hasSize(1);
    assertThat(run(mapped, launcher, "instances", "cds-check")).contains("10.0.0.9:8080");
    try (var files = Files.list(work)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
    }
  }

  /**
   * The server's archive is kept only from a start that served: a first {@code server --help} (or a
   * start that fails on a bad option) would record a few hundred classes, and every later start
   * would map them and take twice as long. The launcher throws such a recording away and records
   * again; a served start's recording it keeps ({@code SourceLauncherServerArchiveTest} serves).
   */
  @Test
  void aServerCallThatNeverServedLeavesNoArchive() throws Exception {
    Path cache = dir.resolve("server-cds-cache");
    Map<String, String> env = Map.of("LODESTAR_CACHE", cache.toString());
    String launcher = home.resolve("bin/lodestar").toString();
    assertThat(run(env, launcher, "server", "--help")).contains("Usage: lodestar server");
    List<Path> first = serverArchives(cache, ".tmp");
    assertThat(first).as("what --help recorded").hasSize(1);
    run(env, launcher, "server", "--version");
    assertThat(serverArchives(cache, ".tmp")).doesNotContain(first.get(0)).hasSize(1);
    assertThat(serverArchives(cache, ".jsa")).isEmpty();
    assertThat(serverArchives(cache, ".ready")).isEmpty();
  }

  /**
   * The launcher works out the JVM's options from the JDK's release file without starting a JVM
   * (and without forking for each: a start and every CLI call paid ~0.1 s of forks): the serving
   * JVM has the options its JDK takes, and a JVM that is not there is named, not a shell error.
   */
  @Test
  void theServerGetsTheOptionsItsJdkTakesAndAMissingJavaIsNamed() throws Exception {
    List<String> options = List.of(Files.readString(Path.of("/proc", Long.toString(server.pid()), "cmdline"))
        .split("\0"));
    assertThat(options).contains("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
        "io.lodestar.server.Main");
    Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)\\.\\d+\\.(\\d+)")
        .matcher(Files.readString(Path.of(System.getProperty("java.home"), "release")));
    if (m.find()) {
      int feature = Integer.parseInt(m.group(1));
      int update = Integer.parseInt(m.group(2));
      boolean trims = feature >= 21 || (feature == 17 && update >= 9);
      assertThat(options.contains("-XX:TrimNativeHeapInterval=10000")).as("trims native memory").isEqualTo(trims);
      assertThat(options.contains("-XX:PerfDataSamplingInterval=5000")).as("samples counters every 5 s")
          .isEqualTo(feature < 25);
      assertThat(options.contains("-XX:AsyncDeflationInterval=5000")).isEqualTo(feature <= 25);
    }

    String launcher = home.resolve("bin/lodestar").toString();
    for (List<String> args : List.of(List.of(launcher, "server"), List.of(launcher, "services"))) {
      ProcessBuilder pb = process(work, args.toArray(String[]::new)).redirectErrorStream(true);
      pb.environment().put("JAVA_HOME", dir.resolve("no-such-jdk").toString());
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isEqualTo(127);
      assertThat(out).isEqualTo("lodestar: no Java at '" + dir.resolve("no-such-jdk/bin/java")
          + "': install Java 17 or later, or set JAVA_HOME (or JAVA) to one\n");
    }
  }

  private static List<Path> serverArchives(Path cache, String suffix) throws IOException {
    try (var files = Files.list(cache)) {
      return files.filter(p -> p.getFileName().toString().startsWith("server-") && p.toString().endsWith(suffix))
          .toList();
    }
  }

  /**
   * JDK-8343427: before JDK 24, a JVM whose class-file load hook is on (a Java agent that transforms
   * classes, JFR started at launch) crashes when it loads an archived class of a multi-release jar,
   * so the launcher leaves the class-data archive out for it and says so (the source launcher's
   * test, {@code SourceLauncherServerArchiveTest}, serves from such a node). The JDK that runs this
   * test is the one the launcher finds first on the PATH.
   */
  @Test
  void aJavaAgentTurnsTheClassArchiveOffBeforeJdk24() throws Exception {
    Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)")
        .matcher(Files.readString(Path.of(System.getProperty("java.home"), "release")));
    assumeTrue(m.find() && Integer.parseInt(m.group(1)) < 24, "JDK 24 and later are fixed");
    Map<String, String> agent = Map.of("LODESTAR_CACHE", dir.resolve("cds-cache").toString(),
        "JAVA_OPTS", "-javaagent:" + ClassHookAgent.jar(dir));
    String launcher = home.resolve("bin/lodestar").toString();
    assertThat(run(agent, launcher, "server", "--help")).contains("class-data archive off", "Usage: lodestar server");
    assertThat(run(agent, launcher, "services")).doesNotContain("class-data archive off");
  }

  private static List<Path> archives(Path cache, String suffix) throws IOException {
    try (var files = Files.list(cache)) {
      return files.filter(p -> p.getFileName().toString().startsWith("cli-") && p.toString().endsWith(suffix)).toList();
    }
  }

  /** The BOM has no parent (an import must not bring the build's versions): its version is kept by hand. */
  @Test
  void theBomCarriesTheReleasesVersion() throws IOException {
    String version = home.getFileName().toString().substring("lodestar-".length());
    String bom = Files.readString(REPO.resolve("bom/pom.xml"));
    assertThat(bom).doesNotContain("<parent>")
        .contains("<artifactId>lodestar-bom</artifactId>\n  <version>" + version + "</version>");
  }

  /** The unit as shipped, pointed at this unpacked release instead of /opt/lodestar. */
  @Test
  void theSystemdUnitVerifies() throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
    Path unit = Files.createDirectories(dir.resolve("systemd")).resolve("lodestar.service");
    Files.writeString(unit, Files.readString(home.resolve("systemd/lodestar.service"))
        .replace("/opt/lodestar", home.toString()));
    // exit 0 and not a word about the unit: a bad key, signal or ExecStart path is reported
    String out = run(dir, analyze.toString(), "verify", unit.toString());
    assertThat(out).doesNotContain("lodestar.service");
  }

  /**
   * No Docker here: what can be checked of the image is that its health check, the exact command
   * in the Dockerfile, tells a serving node from a port where nothing listens.
   */
  @Test
  void theDockerHealthCheckTellsUpFromDown() throws Exception {
    String dockerfile = Files.readString(home.resolve("Dockerfile"));
    Matcher m = Pattern.compile("HEALTHCHECK .*CMD \\[\"bash\", \"-c\", \"(.*)\"\\]").matcher(dockerfile);
    assertThat(m.find()).as("the Dockerfile's HEALTHCHECK").isTrue();
    String check = m.group(1).replace("\\\\", "\\");
    assertThat(check).contains("/8700");
    String port = address.substring(address.indexOf(':') + 1);
    run(dir, "bash", "-c", check.replace("/8700", "/" + port));
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Process down = process(dir, "bash", "-c", check.replace("/8700", "/" + closed)).redirectErrorStream(true).start();
    down.getInputStream().readAllBytes();
    assertThat(down.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(down.exitValue()).as("health check against a closed port").isNotZero();
  }

  @Test
  void readmeExamplesRunAsWritten() throws Exception {
    DocBlocks readme = DocBlocks.of(REPO.resolve("README.md"));
    assertThat(readme.blocks()).as("README.md has doc-test blocks").isNotEmpty();
    runAll(readme);
    // what the "Try it" block promised is there
    String instances = run(work, "./lodestar", "instances", "orders", "--server", address);
    assertThat(instances).contains("10.0.0.7");
  }

  @Test
  void docsExamplesRunAsWritten() throws Exception {
    try (var docs = Files.list(REPO.resolve("docs"))) {
      for (Path md : docs.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
        runAll(DocBlocks.of(md));
      }
    }
  }

  private void runAll(DocBlocks doc) throws Exception {
    for (DocBlocks.Block b : doc.blocks()) {
      String where = REPO.relativize(doc.file()) + ":" + b.line();
      String text = b.text().replace("localhost:8700", address).replace("127.0.0.1:8700", address);
      switch (b.kind()) {
        case SCRIPT -> {
          // the script's background jobs get Ctrl-C's signal at the end, as a user's would
          // a refused request (4xx/5xx) fails the script, as a reader would see it fail
          String script = "set -euo pipefail\ncurl() { command curl -sS --fail-with-body \"$@\"; }\n" + text + "\nfor j in $(jobs -p); do kill -INT $j 2>/dev/null || true; done; wait\n";
          run(where, "bash", "-c", script);
        }
        case STREAM -> {
          for (String line : text.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
              assertStreams(where, line);
            }
          }
        }
        case TRANSCRIPT -> {
          // no address rewriting: a transcript reaches the test server through $LODESTAR_SERVER
          for (String[] step : DocBlocks.steps(b)) {
            String command = step[0].replaceFirst("^lodestar ", "./lodestar ");
            Process p = process(work, "bash", "-c", command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(120, TimeUnit.SECONDS);
            assertThat(out).as("%s: output of `%s`", where, step[0]).isEqualTo(step[1]);
          }
        }
      }
    }
  }

  /** A following command: it must print a first line, and it is then interrupted as with Ctrl-C. */
  private void assertStreams(String where, String command) throws Exception {
    Process p = process(work, "bash", "-c", "exec " + command).redirectErrorStream(true).start();
    CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
      try {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
      } catch (IOException e) {
        return null;
      }
    });
    try {
      assertThat(first.get(120, TimeUnit.SECONDS)).as("%s: `%s` prints", where, command).isNotNull();
      assertThat(p.isAlive()).as("%s: `%s` keeps following", where, command).isTrue();
    } finally {
      new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
      p.waitFor(60, TimeUnit.SECONDS);
      p.destroyForcibly();
    }
  }

  /** A process with only the JVM's directory and the basic system tools on its PATH. */
  private ProcessBuilder process(Path cwd, String... command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
    env.put("HOME", cwd.toString());
    env.put("LANG", "C.UTF-8");  // a user's terminal speaks UTF-8 (docs show "0–10000")
    if (address != null) {
      env.put("LODESTAR_SERVER", address);
    }
    return pb;
  }

  private String run(Path cwd, String... command) throws IOException, InterruptedException {
    return run(String.join(" ", command), cwd, command);
  }

  /** In the work directory, with {@code env} added to the usual environment. */
  private String run(Map<String, String> env, String... command) throws IOException, InterruptedException {
    return run(String.join(" ", command), work, env, command);
  }

  private String run(String what, String... command) throws IOException, InterruptedException {
    return run(what, work, command);
  }

  private String run(String what, Path cwd, String... command) throws IOException, InterruptedException {
    return run(what, cwd, Map.of(), command);
  }

  private String run(String what, Path cwd, Map<String, String> env, String... command)
      throws IOException, InterruptedException {
    ProcessBuilder pb = process(cwd, command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("%s finishes", what).isTrue();
    assertThat(p.exitValue()).as("%s exited %d: %s", what, p.exitValue(), out).isZero();
    return out;
  }
}
