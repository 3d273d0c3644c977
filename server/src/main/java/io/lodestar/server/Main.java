package io.lodestar.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lodestar server}: runs one node until SIGTERM or Ctrl-C, then shuts down cleanly. */
@Command(name = "lodestar server", mixinStandardHelpOptions = true,
    description = "Runs a Lodestar node: gRPC, REST, /health and /metrics on one port, state under --data-dir.")
public final class Main implements Callable<Integer> {
  @Option(names = "--port", description = "client port (gRPC, REST, console); default ${DEFAULT-VALUE}")
  int port = LodestarServer.DEFAULT_PORT;

  @Option(names = "--bind", description = "address to listen on; default ${DEFAULT-VALUE} (loopback only)")
  String bind = "127.0.0.1";

  @Option(names = "--data-dir", description = "where state is kept; default ${DEFAULT-VALUE}")
  Path dataDir = Path.of("data");

  @Option(names = "--snapshot-every", description = "logged writes between snapshots; default ${DEFAULT-VALUE}")
  int snapshotEvery = 50_000;

  @Override
  public Integer call() throws Exception {
    LodestarServer server;
    try {
      server = LodestarServer.builder().port(port).bind(bind).dataDir(dataDir).snapshotEvery(snapshotEvery).build()
          .start();
    } catch (RuntimeException e) {
      System.err.println("lodestar server: cannot start: " + rootMessage(e));
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "lodestar-shutdown"));
    stopped.await();
    return 0;
  }

  private static String rootMessage(Throwable t) {
    String msg = t.getMessage();
    while (t.getCause() != null) {
      t = t.getCause();
      if (t.getMessage() != null) {
        msg = msg + ": " + t.getMessage();
      }
    }
    return msg;
  }

  public static void main(String[] args) {
    System.setProperty("com.linecorp.armeria.warnNettyVersions", "false");
    int code = new CommandLine(new Main()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
