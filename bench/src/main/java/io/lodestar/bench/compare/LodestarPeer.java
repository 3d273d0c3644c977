package io.lodestar.bench.compare;

import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.client.ServiceListener;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Lodestar itself: the server of this checkout in its own JVM, driven through the Java SDK. */
class LodestarPeer implements Peer {
  private static final String NS = "default";
  private final java.util.Set<Client> clients = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private Process server;
  private String address;
  private String heap = "?";
  private double firstStartSeconds = Double.NaN;
  private double startSeconds = Double.NaN;
  private boolean archived;
  private double startCpuSeconds = Double.NaN;
  private boolean archiveMapped;
  private static final java.util.regex.Pattern RECORDING =
      java.util.regex.Pattern.compile("lodestar-server\\.(jsa|aot)\\.(\\d+)\\.tmp");

  @Override
  public String name() {
    return "Lodestar";
  }

  @Override
  public String version() {
    return "0.1.0-SNAPSHOT (" + gitRevision() + "), SDK and server of this checkout";
  }

  @Override
  public String settings() {
    return "-Xmx" + heap + " and the launcher's other JVM defaults (serial collector, the C1 compiler only: docs/operations.md), embedded storage (write-ahead log: ephemeral writes answered once written and synced "
        + "right after, every other write synced before its answer), --max-services-per-namespace 20000, ephemeral instances "
        + "with 10 s TTL renewed by one stream per client, discovery pushed; W4 reads with the SDK's fetch (one request on its gRPC stream, no cache)";
  }

  @Override
  public void start(Path workDir, String heap) throws Exception {
    this.heap = heap;
    // Started as a user starts it, through the launcher, so the product's own JVM settings apply.
    Path home = Path.of(System.getProperty("lodestar.home", ".")).toAbsolutePath();
    if (!hasClassDataArchive(home, true)) {
      // The launcher records its class-data archive when the first start after a build exits, and
      // the next start checks that recording and maps it, as every later start does. Time that first
      // start apart and report the usual one.
      long t0 = System.nanoTime();
      startServer(home, workDir.resolve("first-start"));
      firstStartSeconds = (System.nanoTime() - t0) / 1e9;
      server.destroy(); // a clean exit, which writes the archive: give it time on a busy machine
      if (!server.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)) {
        server.destroyForcibly().waitFor();
      }
    }
    long t0 = System.nanoTime();
    startServer(home, workDir);
    startSeconds = (System.nanoTime() - t0) / 1e9;
    // What a start costs, which load barely moves (its wall time it does), and whether this JVM
    // really mapped the archive: a start without it takes about twice as long.
    startCpuSeconds = Proc.cpuSeconds(server.pid());
    archiveMapped = mapsClassDataArchive(server.pid());
    // by now the launcher has checked a recording and put it in place, or thrown it away
    archived = hasClassDataArchive(home, false);
  }

  /**
   * Whether the process maps the launcher's server archive: a JVM that cannot use it goes on
   * without it, silently (the launcher turns the archive's log off).
   */
  private static boolean mapsClassDataArchive(long pid) {
    try {
      return java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "maps"))
          .matches("(?s).*lodestar-server\\.(jsa|aot).*");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Override
  public double measuredStartSeconds(double wallSeconds) {
    return Double.isNaN(startSeconds) ? wallSeconds : startSeconds;
  }

  @Override
  public String startNote() {
    String timed = String.format(java.util.Locale.ROOT, "the timed start used %.2f s of CPU to ready and %s the "
        + "class-data archive", startCpuSeconds, archiveMapped ? "mapped" : "did not map");
    if (Double.isNaN(firstStartSeconds)) {
      return timed;
    }
    return timed + "; " + (archived ? String.format(java.util.Locale.ROOT, "start to ready is a start with "
        + "the launcher's class-data archive, as every start after the first; the first start after this build (which records the archive at "
        + "exit) took %.1f s", firstStartSeconds) : String.format(java.util.Locale.ROOT, "the first start after this "
        + "build (%.1f s) did not leave a class-data archive, so the start reported ran without one too",
        firstStartSeconds));
  }

  /**
   * Whether the launcher's server archive (./lodestar, {@code cds}; on JDK 25 onwards its AOT cache,
   * {@code aot_cache}) is newer than the server's jar; with {@code orRecording}, a finished recording
   * ({@code lodestar-server.jsa.PID.tmp} or {@code .aot.PID.tmp}, its writer gone) counts too, since
   * the next start checks it and takes it.
   */
  private static boolean hasClassDataArchive(Path home, boolean orRecording) throws java.io.IOException {
    Path target = home.resolve("server/target");
    if (!java.nio.file.Files.isDirectory(target)) {
      return false;
    }
    try (var files = java.nio.file.Files.list(target)) {
      List<Path> all = files.toList();
      long built = all.stream().filter(p -> p.getFileName().toString().matches("lodestar-server-.*\\.jar"))
          .mapToLong(p -> p.toFile().lastModified()).max().orElse(0);
      return all.stream().anyMatch(p -> {
        String name = p.getFileName().toString();
        java.util.regex.Matcher recording = RECORDING.matcher(name);
        boolean usable = name.equals("lodestar-server.jsa") || name.equals("lodestar-server.aot")
            || orRecording && recording.matches() && ProcessHandle.of(Long.parseLong(recording.group(2))).isEmpty();
        return usable && p.toFile().lastModified() > built;
      });
    }
  }

  private void startServer(Path home, Path workDir) throws Exception {
    java.nio.file.Files.createDirectories(workDir);
    int port = Proc.freePort();
    address = "127.0.0.1:" + port;
    Path log = workDir.resolve("lodestar.log");
    ProcessBuilder pb = new ProcessBuilder(home.resolve("lodestar").toString(), "server", "--port",
        Integer.toString(port), "--data-dir", workDir.resolve("data").toString(),
        // the million tier's 10,000 services plus W2's: over the default guard of 10,000 per namespace
        "--max-services-per-namespace", "20000").directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("JAVA_OPTS", "-Xmx" + heap);
    // the launcher runs the JVM named by JAVA: the one this tool and every other JVM peer run on
    pb.environment().put("JAVA", Proc.java());
    server = pb.start();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    Proc.awaitReady(server, Duration.ofSeconds(120), log, () -> http.send(HttpRequest.newBuilder(
        URI.create("http://" + address + "/health")).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode() == 200);
  }

  @Override
  public long pid() {
    return server.pid(); // the launcher execs the JVM
  }

  @Override
  public boolean jvm() {
    return true;
  }

  @Override
  public boolean holdsScaleTiers() {
    return true;
  }

  @Override
  public PeerClient client() {
    Client c = new Client(address, clients::remove);
    clients.add(c);
    return c;
  }

  @Override
  public void close() throws Exception {
    // clients first, in parallel: each says goodbye, so the server drops their instances at once
    List.copyOf(clients).parallelStream().forEach(Client::close);
    Proc.stop(server);
  }

  static String gitRevision() {
    try {
      Process p = new ProcessBuilder("git", "-C", System.getProperty("lodestar.home", "."), "rev-parse", "--short",
          "HEAD").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 ? "git " + out : "unknown revision";
    } catch (Exception e) {
      return "unknown revision";
    }
  }

  private static final class Client implements PeerClient {
    private final LodestarClient sdk;

    private final java.util.function.Consumer<Client> onClose;

    Client(String address, java.util.function.Consumer<Client> onClose) {
      this.onClose = onClose;
      this.sdk = LodestarClient.builder().servers(address).requestTimeout(Duration.ofSeconds(30)).build();
    }

    @Override
    public void register(Inst inst) {
      sdk.register(RegistrationSpec.builder().service(inst.service()).id(inst.id()).host(inst.host())
          .port(inst.port()).metadata(inst.metadata()).ttlSeconds(10).build());
    }

    @Override
    public void deregister(Inst inst) {
      sdk.deregister(NS, inst.service(), inst.id());
    }

    @Override
    public AutoCloseable watch(String service, Consumer<Set<String>> onChange) {
      ServiceListener listener = ev -> onChange.accept(
          ev.instances().stream().map(Instance::id).collect(Collectors.toUnmodifiableSet()));
      sdk.subscribe(NS, service, listener);
      return () -> sdk.unsubscribe(NS, service, listener);
    }

    @Override
    public int read(String service) {
      return sdk.fetch(NS, service).instances().size(); // one request on the stream; the cache is not used
    }

    @Override
    public void close() {
      sdk.close();
      onClose.accept(this);
    }
  }

}
