package io.lodestar.bench;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server a benchmark measures: either one this tool starts (in a fresh data directory, so
 * that its CPU, RSS and live heap can be read) or one already running (then only /metrics).
 */
final class ServerUnderTest implements AutoCloseable {
  private static final long CLK_TCK = 100;
  private final String address;
  private final Process process;
  private final Path dataDir;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private ServerUnderTest(String address, Process process, Path dataDir) {
    this.address = address;
    this.process = process;
    this.dataDir = dataDir;
  }

  static ServerUnderTest existing(String address) {
    return new ServerUnderTest(address, null, null);
  }

  /** Starts {@code lodestar server} from this checkout with the given heap, on a free port. */
  static ServerUnderTest start(String heap) throws Exception {
    Path home = Path.of(System.getProperty("lodestar.home", "."));
    Path jar;
    try (var files = Files.list(home.resolve("server/target"))) {
      jar = files.filter(p -> p.getFileName().toString().matches("lodestar-server-.*\\.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("server jar missing: run mvn -DskipTests package"));
    }
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path data = Files.createTempDirectory("lodestar-bench-");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms" + heap, "-Xmx" + heap, "-Dcom.linecorp.armeria.warnNettyVersions=false",
        "-cp", jar + java.io.File.pathSeparator + home.resolve("server/target/lib") + "/*",
        "io.lodestar.server.Main", "--port", Integer.toString(port), "--data-dir", data.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(data.resolveSibling(data.getFileName() + ".log").toFile()).start();
    ServerUnderTest s = new ServerUnderTest("127.0.0.1:" + port, p, data);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        if (s.get("/health").statusCode() == 200) {
          return s;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("server did not start; see " + data + ".log");
      }
      Thread.sleep(100); // polling a child process's start-up, not test synchronisation
    }
  }

  String address() {
    return address;
  }

  String host() {
    return address.substring(0, address.lastIndexOf(':'));
  }

  int port() {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  boolean owned() {
    return process != null;
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + address + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + address + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** CPU seconds the server process has used (user + system); NaN when not ours. */
  double cpuSeconds() throws IOException {
    if (process == null) {
      return Double.NaN;
    }
    String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLK_TCK;
  }

  /** Resident set size in bytes; -1 when not ours. */
  long rssBytes() throws IOException {
    if (process == null) {
      return -1;
    }
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
      }
    }
    return -1;
  }

  /** Heap in use after a full GC (live heap), via jcmd; -1 when not ours. */
  long liveHeapBytes() throws Exception {
    if (process == null) {
      return -1;
    }
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    return heapUsedBytes();
  }

  /** jvm_memory_used_bytes{area="heap"} summed, from /metrics. */
  long heapUsedBytes() throws Exception {
    String metrics = get("/metrics").body();
    Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*} ([0-9.eE+-]+)").matcher(metrics);
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return (long) sum;
  }

  @Override
  public void close() throws Exception {
    if (process != null) {
      process.destroy();
      process.waitFor();
      try (var walk = Files.walk(dataDir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
