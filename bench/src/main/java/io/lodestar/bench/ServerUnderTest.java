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
 * that its CPU, RSS and live heap can be read), a cluster of nodes this tool starts (figures are
 * summed over the nodes), or one already running (then only /metrics).
 */
final class ServerUnderTest implements AutoCloseable {
  private static final long CLK_TCK = 100;
  private final List<String> addresses;
  private final List<Process> processes;
  private final List<Path> dataDirs;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private ServerUnderTest(List<String> addresses, List<Process> processes, List<Path> dataDirs) {
    this.addresses = addresses;
    this.processes = processes;
    this.dataDirs = dataDirs;
  }

  static ServerUnderTest existing(String address) {
    return new ServerUnderTest(List.of(address), List.of(), List.of());
  }

  /** Starts {@code lodestar server} from this checkout with the given heap, on a free port. */
  static ServerUnderTest start(String heap) throws Exception {
    return start(heap, 1);
  }

  /**
   * Starts one node, or a cluster of {@code nodes} on loopback (each with the given heap). A bench
   * opens all its streams from this one address while they stand in for clients on many machines,
   * so these nodes take any number from one address; the default of 1,000
   * ({@code --max-streams-per-address}) refused {@code bench naming}'s 1,000 subscribers beside its
   * 100 registration streams, and most of {@code bench config}'s 10,000 listeners.
   */
  static ServerUnderTest start(String heap, int nodes) throws Exception {
    return start(heap, nodes, Integer.MAX_VALUE);
  }

  /** As {@link #start(String, int)}, each node taking at most {@code maxStreamsPerAddress} streams from one address. */
  static ServerUnderTest start(String heap, int nodes, int maxStreamsPerAddress) throws Exception {
    Path home = Path.of(System.getProperty("lodestar.home", "."));
    Path jar;
    try (var files = Files.list(home.resolve("server/target"))) {
      jar = files.filter(p -> p.getFileName().toString().matches("lodestar-server-.*\\.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("server jar missing: run mvn -DskipTests package"));
    }
    List<Integer> ports = new ArrayList<>();
    while (ports.size() < nodes) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      try (ServerSocket raft = new ServerSocket(port + 1, 1, java.net.InetAddress.getLoopbackAddress())) {
        ports.add(port); // its Raft port (port + 1) is free too
      } catch (IOException e) {
        // taken: pick another
      }
    }
    StringBuilder cluster = new StringBuilder();
    for (int k = 0; k < nodes; k++) {
      cluster.append(k == 0 ? "" : ",").append("n").append(k + 1).append("=127.0.0.1:").append(ports.get(k));
    }
    List<String> addresses = new ArrayList<>();
    List<Process> processes = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    for (int k = 0; k < nodes; k++) {
      Path data = Files.createTempDirectory("lodestar-bench-");
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xms" + heap, "-Xmx" + heap, "-Dcom.linecorp.armeria.warnNettyVersions=false",
          "-cp", jar + java.io.File.pathSeparator + home.resolve("server/target/lib") + "/*",
          "io.lodestar.server.Main", "--port", Integer.toString(ports.get(k)), "--data-dir", data.toString()));
      if (nodes > 1) {
        cmd.addAll(List.of("--node-id", "n" + (k + 1), "--cluster", cluster.toString()));
      }
      cmd.addAll(List.of("--max-streams-per-address", Integer.toString(maxStreamsPerAddress)));
      processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(data.resolveSibling(data.getFileName() + ".log").toFile()).start());
      addresses.add("127.0.0.1:" + ports.get(k));
      dirs.add(data);
    }
    ServerUnderTest s = new ServerUnderTest(addresses, processes, dirs);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    for (int k = 0; k < nodes; k++) {
      while (true) {
        try {
          // a cluster node is ready once it knows a leader
          HttpResponse<String> r = s.get(k, nodes > 1 ? "/v1/cluster/node" : "/health");
          if (r.statusCode() == 200 && (nodes == 1 || !r.body().contains("\"leader\":null"))) {
            break;
          }
        } catch (IOException e) {
          // not up yet
        }
        if (!processes.get(k).isAlive() || System.nanoTime() > deadline) {
          s.close();
          throw new IllegalStateException("server did not start; see " + dirs.get(k) + ".log");
        }
        Thread.sleep(100); // polling a child process's start-up, not test synchronisation
      }
    }
    return s;
  }

  /** The first node's address (the only one, unless a cluster). */
  String address() {
    return addresses.get(0);
  }

  int nodes() {
    return addresses.size();
  }

  String host() {
    return host(0);
  }

  int port() {
    return port(0);
  }

  /** Node {@code k mod nodes}: spreads connections over a cluster. */
  String host(int k) {
    String a = addresses.get(k % addresses.size());
    return a.substring(0, a.lastIndexOf(':'));
  }

  int port(int k) {
    String a = addresses.get(k % addresses.size());
    return Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
  }

  boolean owned() {
    return !processes.isEmpty();
  }

  /** The first node's process id; only for a server this tool started ({@link #owned()}). */
  long pid() {
    return processes.get(0).pid();
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return get(0, path);
  }

  HttpResponse<String> get(int k, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + addresses.get(k % addresses.size()) + path))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + address() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** CPU seconds the server processes have used (user + system), summed; NaN when not ours. */
  double cpuSeconds() throws IOException {
    if (processes.isEmpty()) {
      return Double.NaN;
    }
    double sum = 0;
    for (Process process : processes) {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLK_TCK;
    }
    return sum;
  }

  /** Resident set size in bytes, summed over the nodes; -1 when not ours. */
  long rssBytes() throws IOException {
    if (processes.isEmpty()) {
      return -1;
    }
    long sum = 0;
    for (Process process : processes) {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          sum += Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
        }
      }
    }
    return sum;
  }

  /** Open file descriptors, summed over the nodes; -1 when not ours. */
  long fileDescriptors() throws IOException {
    if (processes.isEmpty()) {
      return -1;
    }
    long n = 0;
    for (Process process : processes) {
      try (var fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
        n += fds.count();
      }
    }
    return n;
  }

  /** Threads, summed over the nodes; -1 when not ours. */
  long threads() throws IOException {
    if (processes.isEmpty()) {
      return -1;
    }
    long n = 0;
    for (Process process : processes) {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("Threads:")) {
          n += Long.parseLong(line.substring(8).trim());
        }
      }
    }
    return n;
  }

  /** Heap in use after a full GC (live heap), via jcmd, summed over the nodes; -1 when not ours. */
  long liveHeapBytes() throws Exception {
    if (processes.isEmpty()) {
      return -1;
    }
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    for (Process process : processes) {
      new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }
    return heapUsedBytes();
  }

  /** jvm_memory_used_bytes{area="heap"} summed (over the nodes too), from /metrics. */
  long heapUsedBytes() throws Exception {
    double sum = 0;
    for (int k = 0; k < addresses.size(); k++) {
      String metrics = get(k, "/metrics").body();
      Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*} ([0-9.eE+-]+)")
          .matcher(metrics);
      while (m.find()) {
        sum += Double.parseDouble(m.group(1));
      }
    }
    return (long) sum;
  }

  @Override
  public void close() throws Exception {
    for (Process process : processes) {
      process.destroy();
    }
    for (Process process : processes) {
      process.waitFor();
    }
    for (Path dataDir : dataDirs) {
      try (var walk = Files.walk(dataDir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
