package io.lodestar.bench.compare;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Eureka: the stock Spring Cloud Netflix Eureka server of {@code bench/peers/eureka-server}, standalone
 * with Eureka's production defaults, run as its own JVM on loopback; clients speak its REST API.
 */
final class EurekaPeer implements Peer {
  private static final String PROJECT = "bench/peers/eureka-server";
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
  /** Spring Boot plus Eureka take tens of seconds to start on a busy 2-core machine. */
  private static final Duration START_TIMEOUT = Duration.ofMinutes(5);

  private final List<EurekaPeerClient> clients = new CopyOnWriteArrayList<>();
  private Process process;
  private String base;
  private String heap = "?";
  private String version;

  public EurekaPeer() {}

  @Override
  public String name() {
    return "Eureka";
  }

  @Override
  public String version() {
    if (version == null) {
      Path jar = jar();
      try {
        version = Files.exists(jar) ? versionsIn(jar) : "unknown (" + jar + " not built yet)";
      } catch (IOException e) {
        version = "unknown (" + e.getMessage() + ")";
      }
    }
    return version;
  }

  /** The versions actually packed into the server's fat jar, read from its BOOT-INF/lib jar names. */
  static String versionsIn(Path jar) throws IOException {
    String netflix = null;
    String eureka = null;
    String boot = null;
    Pattern lib = Pattern.compile("BOOT-INF/lib/(spring-cloud-netflix-eureka-server|eureka-core|spring-boot)-(\\d[^/]*)\\.jar");
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
        Matcher m = lib.matcher(e.nextElement().getName());
        if (m.matches()) {
          switch (m.group(1)) {
            case "spring-cloud-netflix-eureka-server" -> netflix = m.group(2);
            case "eureka-core" -> eureka = m.group(2);
            default -> boot = m.group(2);
          }
        }
      }
    }
    if (netflix == null || eureka == null) {
      throw new IOException("no spring-cloud-netflix-eureka-server/eureka-core jar inside " + jar);
    }
    return "Spring Cloud Netflix Eureka server " + netflix + " (Eureka " + eureka + ", Spring Boot " + boot
        + "); client: Eureka REST API v2 over java.net.http, JSON";
  }

  @Override
  public String settings() {
    return "heap " + heap + "; Eureka defaults: read-only response cache refreshed every 30 s, self-preservation on,"
        + " eviction every 60 s; clients renew every " + EurekaPeerClient.RENEWAL_SECONDS + " s (lease "
        + EurekaPeerClient.LEASE_SECONDS + " s), poll every " + EurekaPeerClient.DEFAULT_POLL.toSeconds() + " s";
  }

  private static Path home() {
    return Path.of(System.getProperty("lodestar.home", ".")).toAbsolutePath().normalize();
  }

  static Path jar() {
    return home().resolve(PROJECT).resolve("target/eureka-server.jar");
  }

  @Override
  public void start(Path workDir, String heap) throws Exception {
    this.heap = heap;
    Path jar = jar();
    if (!Files.exists(jar) || sourcesNewerThan(jar)) {
      build(workDir);
    }
    version = versionsIn(jar);
    int port = Proc.freePort();
    Path log = workDir.resolve("eureka.log");
    process = Proc.start(List.of(Proc.java(), "-Xmx" + heap, "-jar", jar.toString(), "--server.port=" + port,
        "--server.address=127.0.0.1"), log, workDir);
    base = "http://127.0.0.1:" + port + "/eureka";
    HttpClient probe = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest apps = HttpRequest.newBuilder(URI.create(base + "/apps")).timeout(Duration.ofSeconds(5))
        .header("Accept", "application/json").GET().build();
    try {
      Proc.awaitReady(process, START_TIMEOUT, log,
          () -> probe.send(apps, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    } catch (Exception e) {
      Proc.stop(process);
      process = null;
      throw new IllegalStateException("eureka: server " + e.getMessage(), e);
    }
  }

  /** True when the server project's pom or sources changed after the jar was built. */
  private static boolean sourcesNewerThan(Path jar) throws java.io.IOException {
    long built = Files.getLastModifiedTime(jar).toMillis();
    Path project = home().resolve(PROJECT);
    try (var files = Files.walk(project)) {
      return files.filter(p -> !p.startsWith(project.resolve("target")) && Files.isRegularFile(p))
          .anyMatch(p -> p.toFile().lastModified() > built);
    }
  }

  /** Builds the server's fat jar with Maven, once per checkout and after changes (CI never builds it). */
  private static void build(Path workDir) throws Exception {
    Path pom = home().resolve(PROJECT).resolve("pom.xml");
    if (!Files.exists(pom)) {
      throw new IllegalStateException("eureka: no " + pom + "; is -Dlodestar.home the Lodestar checkout?");
    }
    Path log = workDir.resolve("eureka-build.log");
    System.out.println("eureka: building the Eureka server (Spring Cloud Netflix) with Maven, first time only ...");
    Process mvn;
    try {
      mvn = Proc.start(List.of("mvn", "-B", "-q", "-f", pom.toString(), "-DskipTests", "package"), log, workDir);
    } catch (IOException e) {
      throw new IllegalStateException("eureka: cannot run Maven (mvn on the PATH) to build " + pom + ": " + e.getMessage(), e);
    }
    if (!mvn.waitFor(BUILD_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
      Proc.stop(mvn);
      throw new IllegalStateException("eureka: building the Eureka server took over " + BUILD_TIMEOUT.toMinutes()
          + " min; see " + log);
    }
    if (mvn.exitValue() != 0 || !Files.exists(jar())) {
      throw new IllegalStateException("eureka: building the Eureka server failed (mvn exit " + mvn.exitValue()
          + "); see " + log);
    }
  }

  @Override
  public long pid() {
    if (process == null) {
      throw new IllegalStateException("eureka: not started");
    }
    return process.pid();
  }

  @Override
  public boolean jvm() {
    return true;
  }

  @Override
  public PeerClient client() {
    return client(EurekaPeerClient.DEFAULT_POLL);
  }

  /** A client polling every {@code poll} instead of Eureka's 30 s: for tests only. */
  EurekaPeerClient client(Duration poll) {
    if (base == null) {
      throw new IllegalStateException("eureka: not started");
    }
    EurekaPeerClient c = new EurekaPeerClient(base, poll, Duration.ofSeconds(EurekaPeerClient.RENEWAL_SECONDS));
    clients.add(c);
    return c;
  }

  @Override
  public void close() throws Exception {
    clients.forEach(EurekaPeerClient::abandon);
    clients.clear();
    Proc.stop(process);
    process = null;
  }
}
