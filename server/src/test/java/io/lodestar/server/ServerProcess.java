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

  public int port() {
    return port;
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
