package io.lodestar.bench.compare;

import io.etcd.jetcd.Client;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * etcd 3.4 from Debian's etcd-server package, one member on loopback with its production defaults,
 * driven through jetcd the way a Java application registers itself in etcd.
 */
final class EtcdPeer implements Peer {
  private static final String PACKAGE = "etcd-server";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Set<EtcdClient> clients = ConcurrentHashMap.newKeySet();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private Process process;
  private String endpoint;

  public EtcdPeer() {}

  /** True when an etcd binary is on PATH; the benchmark installs one otherwise, tests skip. */
  static boolean installed() {
    return onPath("etcd") != null;
  }

  @Override
  public String name() {
    return "etcd";
  }

  @Override
  public String version() {
    return "etcd " + serverVersion() + ", jetcd " + jetcdVersion();
  }

  @Override
  public String settings() {
    return "fsync on (default), snapshot-count 100000 (default), backend quota 2 GiB (default), "
        + "one 10 s lease per client kept alive by jetcd, linearizable reads";
  }

  @Override
  public void start(Path workDir, String heap) throws Exception {
    if (!installed()) {
      install(workDir);
    }
    int clientPort = Proc.freePort();
    int peerPort = Proc.freePort();
    String clientUrl = "http://127.0.0.1:" + clientPort;
    String peerUrl = "http://127.0.0.1:" + peerPort;
    // Our own ports and data dir, so a system etcd the Debian package may have started (2379/2380)
    // is neither used nor disturbed. zap: 3.4's default capnslog logger warns it is deprecated.
    List<String> command = List.of("etcd", "--name", "bench",
        "--data-dir", workDir.resolve("data").toString(),
        "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
        "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
        "--initial-cluster", "bench=" + peerUrl,
        "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn");
    Path log = workDir.resolve("etcd.log");
    process = Proc.start(command, log, workDir);
    endpoint = clientUrl;
    try {
      Proc.awaitReady(process, START_TIMEOUT, log, this::healthy);
    } catch (Exception e) {
      Proc.stop(process);
      throw new IllegalStateException("etcd " + e.getMessage(), e);
    }
  }

  /** etcd 3.4 answers {"health":"true"} once it has a leader and can commit. */
  private boolean healthy() throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint + "/health"))
        .timeout(Duration.ofSeconds(2)).build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    return response.statusCode() == 200 && response.body().replace(" ", "").contains("\"health\":\"true\"");
  }

  @Override
  public long pid() {
    return requireStarted().pid();
  }

  @Override
  public boolean jvm() {
    return false;
  }

  @Override
  public PeerClient client() throws Exception {
    requireStarted();
    EtcdClient client = new EtcdClient(endpoint, clients::remove);
    clients.add(client);
    return client;
  }

  @Override
  public void close() throws Exception {
    // Clients first, while the server can still take their lease revocations.
    Exception failure = null;
    for (EtcdClient client : List.copyOf(clients)) {
      try {
        client.close();
      } catch (Exception e) {
        failure = failure == null ? e : failure;
      }
    }
    Proc.stop(process);
    process = null;
    if (failure != null) {
      throw failure;
    }
  }

  private Process requireStarted() {
    if (process == null) {
      throw new IllegalStateException("etcd is not started");
    }
    return process;
  }

  private static String serverVersion() {
    try {
      Process p = new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      Matcher m = Pattern.compile("etcd Version: (\\S+)").matcher(out);
      return m.find() ? m.group(1) : "unknown";
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  /** jetcd's jar carries no version in its manifest; its file name (Maven's layout, target/lib) does. */
  private static String jetcdVersion() {
    try {
      String jar = Path.of(Client.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .getFileName().toString();
      Matcher m = Pattern.compile("jetcd-core-(.+)\\.jar").matcher(jar);
      return m.matches() ? m.group(1) : "unknown";
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static Path onPath(String binary) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, binary);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /** Installs Debian's etcd-server; on a machine whose package lists are empty, after updating them. */
  private static void install(Path workDir) throws IOException, InterruptedException {
    System.out.println("etcd: installing Debian's " + PACKAGE + " ...");
    List<String> sudo = isRoot() ? List.of() : List.of("sudo", "-n");
    Path log = workDir.resolve("apt-get.log");
    if (apt(sudo, log, "install", "-y", PACKAGE) != 0) {
      apt(sudo, log, "update");
      int exit = apt(sudo, log, "install", "-y", PACKAGE);
      if (exit != 0) {
        List<String> lines = Files.readAllLines(log);
        throw new IllegalStateException("could not install etcd: apt-get install -y " + PACKAGE + " exited "
            + exit + " (" + lines.get(Math.max(0, lines.size() - 1)).strip() + "); install it yourself with"
            + " 'sudo apt-get install -y " + PACKAGE + "' and run again");
      }
    }
    if (!installed()) {
      throw new IllegalStateException(PACKAGE + " is installed but no etcd binary is on PATH");
    }
  }

  private static int apt(List<String> sudo, Path log, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(sudo);
    command.add("apt-get");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
    Process p = builder.start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("apt-get " + String.join(" ", args) + " took over 10 minutes; see " + log);
    }
    return p.exitValue();
  }

  private static boolean isRoot() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
    String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor();
    return uid.equals("0");
  }
}
