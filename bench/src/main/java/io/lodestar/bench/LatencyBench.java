package io.lodestar.bench;

import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar bench latency}: one request at a time, with a pause between requests, as a
 * registry mostly sees them (a change every few hundred milliseconds, not a flood). For each pause
 * it times a plain TCP echo between two threads of this process (what the machine itself costs
 * for a loopback round trip after that pause), an SDK fetch of a service of 16 instances, an SDK
 * registration that changes one of them (a logged write), and a push: the time from sending such
 * a registration to a subscriber's callback (W2 of {@code bench compare} with one watcher). The
 * TCP echo's row also shows what the server costs per pause while idle (it takes no part in it). With the CPU each operation cost the server and
 * this process (the scheduler's own per-thread run time, {@code /proc/PID/task/*}{@code /schedstat}),
 * it shows how much of a latency is work and how much is waking up: on a shared VM whose cores
 * idle between requests the same fetch costs several times the CPU it costs back to back.
 */
@Command(name = "latency", mixinStandardHelpOptions = true,
    description = "Round trips one at a time with pauses between them: TCP echo, SDK fetch, registration, push.")
public final class LatencyBench implements Callable<Integer> {
  @Option(names = "--server", description = "host:port of a running server; default: start one from this checkout")
  String server;

  @Option(names = "--server-pid", description = "with --server: its process id, to read the CPU it spends (same machine)")
  Long serverPidOption;

  @Option(names = "--requests", description = "timed requests per operation and pause; default ${DEFAULT-VALUE}")
  int requests = 200;

  @Option(names = "--warmup", description = "untimed requests of each operation, back to back, first; default ${DEFAULT-VALUE}")
  int warmup = 2000;

  @Option(names = "--pauses-ms", split = ",", description = "pauses between requests, in ms; default ${DEFAULT-VALUE}")
  List<Integer> pausesMs = List.of(0, 1, 5, 20, 100);

  @Option(names = "--server-heap", description = "heap of the server this tool starts; default ${DEFAULT-VALUE}")
  String serverHeap = "256m";

  PrintStream report = System.out;

  private record Op(String name, Histogram latency, double serverCpuMs, double ownCpuMs) {}

  @Override
  public Integer call() throws Exception {
    if (requests < 1 || warmup < 0 || pausesMs.stream().anyMatch(p -> p < 0)) {
      System.err.println("--requests must be at least 1, --warmup and --pauses-ms not negative");
      return 2;
    }
    if (serverPidOption != null && (server == null || !Files.isDirectory(Path.of("/proc", serverPidOption.toString())))) {
      System.err.println("--server-pid needs --server and a process on this machine: no process " + serverPidOption);
      return 2;
    }
    java.util.logging.Logger.getLogger(LodestarClient.class.getName()).setLevel(java.util.logging.Level.WARNING);
    try (ServerUnderTest s = server != null ? ServerUnderTest.existing(server) : ServerUnderTest.start(serverHeap);
        Echo echo = new Echo();
        LodestarClient writer = LodestarClient.builder().servers(s.address()).requestTimeout(Duration.ofSeconds(10)).build();
        LodestarClient watcher = LodestarClient.builder().servers(s.address()).build()) {
      String service = "latency-" + Long.toHexString(System.nanoTime());
      Long serverPid = s.owned() ? Long.valueOf(s.pid()) : serverPidOption;
      // the subscriber: each callback completes the waiter of the change (seq) it first shows
      ConcurrentHashMap<String, CompletableFuture<Long>> sightings = new ConcurrentHashMap<>();
      watcher.subscribe("default", service, ev -> {
        long now = System.nanoTime();
        for (Instance i : ev.instances()) {
          CompletableFuture<Long> f = sightings.get(i.metadata().getOrDefault("seq", ""));
          if (f != null) {
            f.complete(now);
          }
        }
      });
      // Every registration changes one of INSTANCES instances (its "seq" metadata), so each is a
      // logged write and a push while the service, and so every fetch and push, stays small.
      long[] seq = {0};
      Runnable fetch = () -> writer.fetch("default", service);
      Runnable register = () -> writer.register(spec(service, seq[0]++));
      java.util.function.LongSupplier push = () -> {
        long k = seq[0]++;
        CompletableFuture<Long> seen = new CompletableFuture<>();
        sightings.put(Long.toString(k), seen);
        long t0 = System.nanoTime();
        writer.register(spec(service, k));
        long at = seen.orTimeout(10, TimeUnit.SECONDS).join();
        sightings.remove(Long.toString(k));
        return at - t0;
      };
      register.run(); // the service exists from here
      report.printf(Locale.ROOT, "latency: %s, %,d requests per operation and pause after %,d back to back%n",
          s.owned() ? "a server this tool started (-Xmx" + serverHeap + ")" : "the server at " + s.address(),
          requests, warmup);
      for (int i = 0; i < warmup; i++) {
        echo.roundTrip();
        fetch.run();
        register.run();
        push.getAsLong();
      }
      report.println("pause   operation        p50 ms   p90 ms   p99 ms   CPU ms per request: server   this process");
      for (int pause : pausesMs) {
        List<Op> ops = new ArrayList<>();
        ops.add(time("TCP echo", pause, serverPid, () -> {
          long t0 = System.nanoTime();
          echo.roundTrip();
          return System.nanoTime() - t0;
        }));
        ops.add(time("SDK fetch", pause, serverPid, () -> {
          long t0 = System.nanoTime();
          fetch.run();
          return System.nanoTime() - t0;
        }));
        ops.add(time("SDK register", pause, serverPid, () -> {
          long t0 = System.nanoTime();
          register.run();
          return System.nanoTime() - t0;
        }));
        ops.add(time("push (1 watcher)", pause, serverPid, push));
        for (Op op : ops) {
          Histogram h = op.latency();
          report.printf(Locale.ROOT, "%4d ms  %-16s %7.3f  %7.3f  %7.3f   %25s   %12.3f%n", pause, op.name(),
              h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6, h.getValueAtPercentile(99) / 1e6,
              Double.isNaN(op.serverCpuMs()) ? "-" : String.format(Locale.ROOT, "%.3f", op.serverCpuMs()), op.ownCpuMs());
        }
      }
      return 0;
    }
  }

  /** Instances of the timed service: registrations cycle through them. */
  static final int INSTANCES = 16;

  private static RegistrationSpec spec(String service, long seq) {
    return RegistrationSpec.builder().service(service).id("i-" + seq % INSTANCES).host("10.7.0.1").port(9000)
        .metadata(java.util.Map.of("seq", Long.toString(seq))).ttlSeconds(30).build();
  }

  /** {@code requests} runs of {@code op} (returning its latency in ns), each after {@code pauseMs}. */
  private Op time(String name, int pauseMs, Long serverPid, java.util.function.LongSupplier op) throws IOException {
    Histogram h = new Histogram(3);
    long self = ProcessHandle.current().pid();
    var own0 = runNanos(self);
    var server0 = serverPid == null ? null : runNanos(serverPid);
    for (int i = 0; i < requests; i++) {
      if (pauseMs > 0) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMs)); // the pause is the workload, not a wait for a result
      }
      h.recordValue(Math.max(1, op.getAsLong()));
    }
    double own = since(own0, runNanos(self)) / 1e6 / requests;
    double serverMs = serverPid == null ? Double.NaN : since(server0, runNanos(serverPid)) / 1e6 / requests;
    return new Op(name, h, serverMs, own);
  }

  /**
   * Run time of each live thread of a process, by thread id, from the scheduler (ns, exact, unlike
   * clock ticks); a window's CPU is {@link #since}: a thread that ends within it drops out (it is
   * not subtracted), a new one counts from zero.
   */
  static java.util.Map<String, Long> runNanos(long pid) throws IOException {
    java.util.Map<String, Long> byThread = new java.util.HashMap<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String s = Files.readString(t.resolve("schedstat"));
          byThread.put(t.getFileName().toString(), Long.parseLong(s.substring(0, s.indexOf(' '))));
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    }
    return byThread;
  }

  /** The run time since {@code before} of the threads alive now (ns). */
  static long since(java.util.Map<String, Long> before, java.util.Map<String, Long> now) {
    long sum = 0;
    for (var e : now.entrySet()) {
      sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
    }
    return sum;
  }

  /** A loopback TCP echo between two threads of this process: the machine's own round trip. */
  private static final class Echo implements AutoCloseable {
    private final ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    private final Socket client;
    private final InputStream in;
    private final OutputStream out;
    private final Thread thread;
    private final byte[] buf = new byte[16];

    Echo() throws IOException {
      thread = new Thread(() -> {
        try (Socket s = listener.accept()) {
          s.setTcpNoDelay(true);
          InputStream sin = s.getInputStream();
          OutputStream sout = s.getOutputStream();
          byte[] b = new byte[16];
          for (int n; (n = sin.read(b)) > 0; ) {
            sout.write(b, 0, n);
          }
        } catch (IOException e) {
          // closed
        }
      }, "latency-echo");
      thread.setDaemon(true);
      thread.start();
      client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
      client.setTcpNoDelay(true);
      in = client.getInputStream();
      out = client.getOutputStream();
    }

    void roundTrip() {
      try {
        out.write(buf);
        for (int got = 0; got < buf.length; ) {
          int n = in.read(buf, got, buf.length - got);
          if (n < 0) {
            throw new IOException("echo closed");
          }
          got += n;
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public void close() throws IOException {
      client.close();
      listener.close();
    }
  }
}
