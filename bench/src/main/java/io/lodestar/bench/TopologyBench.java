package io.lodestar.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.CallStatsReport;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.EdgeStats;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.ServerMessage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The server's side of the call statistics: {@code --clients} SDK-like streams each send one
 * window of {@code --edges} edges every 10 s (as the SDK does); the tool reports the server's CPU
 * per window (less the idle CPU of a quiet window), its live heap, and the latency of the
 * topology query over the last 5 minutes at that size (docs/benchmarks.md).
 */
@Command(name = "topology", mixinStandardHelpOptions = true,
    description = "Call statistics: server CPU and heap to aggregate N clients x M edges, and the topology query latency.")
final class TopologyBench implements Callable<Integer> {
  @Option(names = "--server", description = "host:port of a running server; default: start one here")
  String server;

  @Option(names = "--server-heap", description = "heap of the server this tool starts; default ${DEFAULT-VALUE}")
  String serverHeap = "1g";

  @Option(names = "--clients", description = "SDK streams, each a caller; default ${DEFAULT-VALUE}")
  int clients = 1000;

  @Option(names = "--edges", description = "edges per client window; default ${DEFAULT-VALUE}")
  int edges = 50;

  @Option(names = "--windows", description = "10 s windows to send; default ${DEFAULT-VALUE}")
  int windows = 6;

  @Option(names = "--queries", description = "topology queries timed at the end; default ${DEFAULT-VALUE}")
  int queries = 30;

  @Override
  public Integer call() throws Exception {
    try (ServerUnderTest s = server == null ? ServerUnderTest.start(serverHeap) : ServerUnderTest.existing(server)) {
      run(s);
    }
    return 0;
  }

  /** One window per client, built once: 20 callers, each edge one of 10 services × 5 instances × 5 methods. */
  private ClientMessage report(int client) {
    CallStatsReport.Builder r = CallStatsReport.newBuilder().setCallerNamespace("default")
        .setCaller("caller-" + (client % 20)).setWindowMs(10_000);
    for (int k = 0; k < edges; k++) {
      Histogram h = new Histogram(60_000_000L, 2);
      for (int v = 0; v < 20; v++) {
        h.recordValue(500 + (client * 31 + k * 17 + v * 101) % 20_000);  // 0.5–20 ms
      }
      ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
      int n = h.encodeIntoCompressedByteBuffer(buf);
      int svc = k % 10;
      r.addEdges(EdgeStats.newBuilder().setNamespace("default").setService("svc-" + svc)
          .setInstanceId("svc-" + svc + "-" + ((client + k) % 5)).setMethod("/m" + (k / 10 % 5)).setCount(20)
          .putErrors("server_error", k % 7 == 0 ? 1 : 0)
          .setLatencyHistogram(ByteString.copyFrom(buf.array(), 0, n)));
    }
    return ClientMessage.newBuilder().setCallStats(r).build();
  }

  private void run(ServerUnderTest s) throws Exception {
    System.out.printf("Lodestar call-statistics benchmark against %s: %,d clients x %d edges, %d windows of 10 s%n",
        s.address(), clients, edges, windows);
    List<ManagedChannel> channels = new ArrayList<>();
    List<StreamObserver<ClientMessage>> streams = new ArrayList<>();
    ClientMessage[] reports = new ClientMessage[clients];
    try {
      for (int c = 0; c < clients; c++) {
        if (c % 50 == 0) {
          channels.add(ManagedChannelBuilder.forAddress(s.host(), s.port()).usePlaintext().build());
        }
        StreamObserver<ClientMessage> out = NamingGrpc.newStub(channels.get(channels.size() - 1))
            .connect(new StreamObserver<ServerMessage>() {
              @Override
              public void onNext(ServerMessage m) {}

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        out.onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("bench-stats-" + c)).build());
        streams.add(out);
        reports[c] = report(c);
      }
      Thread.sleep(10_000);
      double idle0 = s.cpuSeconds();
      Thread.sleep(10_000);
      double idle = s.cpuSeconds() - idle0;
      double[] perWindow = new double[windows];
      for (int w = 0; w < windows; w++) {
        long start = System.nanoTime();
        double cpu0 = s.cpuSeconds();
        for (int c = 0; c < clients; c++) {
          streams.get(c).onNext(reports[c]);
        }
        long left = 10_000_000_000L - (System.nanoTime() - start);
        if (left > 0) {
          Thread.sleep(left / 1_000_000);
        }
        perWindow[w] = s.cpuSeconds() - cpu0 - idle;
      }
      Arrays.sort(perWindow);
      System.out.printf("  server CPU per 10 s window (idle %.2f s subtracted): median %.2f s, max %.2f s"
          + " (%.1f %% of one core)%n", idle, perWindow[windows / 2], perWindow[windows - 1],
          100 * perWindow[windows / 2] / 10);
      System.out.printf("  edges held: %s, live heap after a full GC: %,d MiB%n",
          metric(s, "lodestar_call_edges "), s.liveHeapBytes() / (1024 * 1024));
      long[] nanos = new long[queries];
      int size = 0;
      for (int q = 0; q < queries; q++) {
        long t0 = System.nanoTime();
        var r = s.get("/v1/namespaces/default/topology?window=5m");
        nanos[q] = System.nanoTime() - t0;
        size = r.body().length();
        if (r.statusCode() != 200) {
          throw new IllegalStateException("topology query answered " + r.statusCode() + ": " + r.body());
        }
      }
      Arrays.sort(nanos);
      System.out.printf("  topology query (5m, %,d bytes): p50 %.1f ms, max %.1f ms over %d queries%n", size,
          nanos[queries / 2] / 1e6, nanos[queries - 1] / 1e6, queries);
    } finally {
      streams.forEach(StreamObserver::onCompleted);
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private static String metric(ServerUnderTest s, String prefix) throws Exception {
    for (String line : s.get("/metrics").body().split("\n")) {
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length()).trim();
      }
    }
    return "?";
  }
}
