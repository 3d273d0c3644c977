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

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A free port whose successor (the default Raft port) is free too. */
  public static int freePortPair() {
    for (int attempt = 0; attempt < 50; attempt++) {
      int p = freePort();
      if (p < 65535) {
        try (ServerSocket s = new ServerSocket(p + 1, 1, java.net.InetAddress.getLoopbackAddress())) {
          return p;
        } catch (IOException e) {
          // taken: try another
        }
      }
    }
    throw new IllegalStateException("no two consecutive free ports");
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
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
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
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
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
