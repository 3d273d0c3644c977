package io.lodestar.server;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A Lodestar node in its own JVM, for tests that kill it. */
public final class ServerProcess implements AutoCloseable {
  /**
   * How long a start may take: a few seconds alone, but three nodes starting at once next to other
   * test JVMs on a loaded 2-core machine have taken minutes. The wait ends as soon as it answers.
   */
  private static final Duration START = Duration.ofSeconds(300);
  private final int port;
  private final Path dataDir;
  private final Path logFile;
  private final List<String> extraArgs;
  private Process process;

  public ServerProcess(int port, Path dataDir, String... extraArgs) {
    this.port = port;
    this.dataDir = dataDir;
    this.logFile = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    this.extraArgs = List.of(extraArgs);
  }

  /**
   * A port that is free now and outside the kernel's ephemeral range (32768–60999 on Linux), so
   * that the outgoing connections of the nodes themselves cannot take it before a process that
   * was handed it (perhaps minutes later, after a restart) binds it.
   */
  public static int freePort() {
    return freeRun(1);
  }

  /** A free port whose successor (the default Raft port) is free too. */
  public static int freePortPair() {
    return freeRun(2);
  }

  private static int freeRun(int length) {
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    int[] range = forkRange();
    for (int attempt = 0; attempt < 200; attempt++) {
      int p = r.nextInt(range[0], range[1] - length);
      if (PORTS_HANDED_OUT.contains(p) || (length > 1 && PORTS_HANDED_OUT.contains(p + 1))) {
        continue;
      }
      if (bindable(p) && (length == 1 || bindable(p + 1))) {
        for (int i = 0; i < length; i++) {
          PORTS_HANDED_OUT.add(p + i);
        }
        return p;
      }
    }
    throw new IllegalStateException("no free port run of " + length);
  }

  /**
   * 20000–31999, or with test JVMs side by side (surefire's fork number 1, 2, ...) a 3,000-port
   * slice of it per fork: another fork's node may bind a port only seconds after it was checked
   * here, and this JVM cannot know which ones another has handed out.
   */
  private static int[] forkRange() {
    int fork;
    try {
      fork = Integer.parseInt(System.getProperty("lodestar.test.fork", "0"));
    } catch (NumberFormatException e) {
      fork = 0;
    }
    if (fork < 1 || fork > 4) {
      return new int[] {20_000, 32_000};
    }
    int low = 20_000 + (fork - 1) * 3_000;
    return new int[] {low, low + 3_000};
  }

  // Ports this JVM already handed out: never hand the same one to two nodes.
  private static final java.util.Set<Integer> PORTS_HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static boolean bindable(int p) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), p), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public int port() {
    return port;
  }

  public Path logFile() {
    return logFile;
  }

  public long pid() {
    return process.pid();
  }

  /** SIGSTOP: the JVM freezes, sockets stay open (a stand-in for a partition). */
  public void freeze() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze()}. */
  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String sig) throws IOException, InterruptedException {
    int rc = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IllegalStateException("kill -" + sig + " failed with " + rc);
    }
  }

  /** Starts the JVM and waits until /health answers. */
  public ServerProcess start() throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Dcom.linecorp.armeria.warnNettyVersions=false",
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
    cmd.addAll(extraArgs);
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
    Http http = new Http(port);
    await().atMost(START).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
        .until(() -> {
          if (!process.isAlive()) {
            throw new IllegalStateException("server exited with " + process.exitValue() + "; see " + logFile);
          }
          return http.get("/health").status() == 200;
        });
    return this;
  }

  /** kill -9: no shutdown hook runs, nothing is flushed. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM, and wait for the clean shutdown; returns the exit code. */
  public int terminate() throws InterruptedException {
    process.destroy();
    return process.waitFor();
  }

  /** Starts the JVM without waiting for it to answer. */
  public ServerProcess startAsync() throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dcom.linecorp.armeria.warnNettyVersions=false",
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
    cmd.addAll(extraArgs);
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
    return this;
  }

  /** Waits until /health answers. */
  public ServerProcess awaitUp() {
    Http http = new Http(port);
    await().atMost(START).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> {
          if (!process.isAlive()) {
            throw new IllegalStateException("server exited with " + process.exitValue() + "; see " + logFile);
          }
          return http.get("/health").status() == 200;
        });
    return this;
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    if (isAlive()) {
      kill();
    }
  }
}
