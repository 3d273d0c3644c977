package io.lodestar.client;

import io.lodestar.server.LodestarServer;
import java.nio.file.Path;

/** A real Lodestar server on a loopback port, restartable on the same port and data dir. */
final class TestServer implements AutoCloseable {
  private final Path dataDir;
  private LodestarServer server;
  private int port;

  private TestServer(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.server = LodestarServer.builder().bind("127.0.0.1").port(port).dataDir(dataDir).build().start();
    this.port = server.port();
  }

  static TestServer start(Path dataDir) {
    return new TestServer(dataDir, 0);
  }

  /** A new server on the same port and data dir as this stopped one. */
  static TestServer startOn(Path dataDir, int port) {
    return new TestServer(dataDir, port);
  }

  int port() {
    return port;
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  Path dataDir() {
    return dataDir;
  }

  /** Stops serving (a clean server shutdown); the port and data dir can be reused. */
  void stop() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  void restart() {
    stop();
    server = LodestarServer.builder().bind("127.0.0.1").port(port).dataDir(dataDir).build().start();
  }

  @Override
  public void close() {
    stop();
  }
}
