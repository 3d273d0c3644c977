package io.lodestar.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.ConfigSubscribe;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.ServerMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar bench config}: publish-to-listener latency with many listeners, then read and
 * publish throughput over REST. Listeners speak the SDK's stream directly (one stream and one
 * config subscription each), so one process can stand in for thousands of applications.
 */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = "Config push latency, read and publish throughput against a Lodestar server.")
final class ConfigBench implements Callable<Integer> {
  @Option(names = "--server", description = "host:port of a running server; default: start one here")
  String server;

  @Option(names = "--server-heap", description = "heap of the server this tool starts; default ${DEFAULT-VALUE}")
  String serverHeap = "1g";

  @Option(names = "--listeners", description = "listeners of the pushed config; default ${DEFAULT-VALUE}")
  int listeners = 10_000;

  @Option(names = "--changes", description = "versions published to them; default ${DEFAULT-VALUE}")
  int changes = 50;

  @Option(names = "--change-interval-ms", description = "pause between published versions; default ${DEFAULT-VALUE}")
  int changeIntervalMs = 200;

  @Option(names = "--size", description = "bytes of content per version; default ${DEFAULT-VALUE}")
  int size = 1024;

  @Option(names = "--threads", description = "REST client threads for the throughput runs; default ${DEFAULT-VALUE}")
  int threads = 16;

  @Option(names = "--seconds", description = "length of each throughput run; default ${DEFAULT-VALUE}")
  int seconds = 10;

  private static final String NS = "default";
  private static final String GROUP = "bench";

  @Override
  public Integer call() throws Exception {
    try (ServerUnderTest s = server == null ? ServerUnderTest.start(serverHeap) : ServerUnderTest.existing(server)) {
      System.out.printf("Lodestar config benchmark against %s (%s)%n", s.address(),
          s.owned() ? "started here, heap " + serverHeap : "already running");
      System.out.printf("  %,d listeners, %d versions of %,d bytes every %d ms; %d REST threads for %d s%n%n",
          listeners, changes, size, changeIntervalMs, threads, seconds);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      String base = "http://" + s.address() + "/v1/namespaces/" + NS + "/configs/" + GROUP + "/";
      push(s, http, base);
      reads(http, base);
      publishes(http, base);
    }
    return 0;
  }

  private String content(int seq) {
    StringBuilder b = new StringBuilder("seq=").append(seq).append('\n');
    while (b.length() < size) {
      b.append("key").append(b.length()).append("=value\n");
    }
    return b.toString();
  }

  private static long put(HttpClient http, String url, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("publish failed: " + r.statusCode() + " " + r.body());
    }
    return Long.parseLong(r.body().replaceAll("\\D+", ""));
  }

  private void push(ServerUnderTest s, HttpClient http, String base) throws Exception {
    String url = base + "pushed.properties";
    long v0 = put(http, url, content(-1));
    long[] sentAt = new long[changes];
    AtomicLongArray delivered = new AtomicLongArray(changes);
    Histogram untilAll = new Histogram(3);
    Recorder perDelivery = new Recorder(3);
    AtomicLong outOfOrder = new AtomicLong();
    CountDownLatch subscribed = new CountDownLatch(listeners);
    CountDownLatch done = new CountDownLatch(changes);
    List<ManagedChannel> channels = new ArrayList<>();
    int perChannel = 100;
    ManagedChannel ch = null;
    try {
      for (int k = 0; k < listeners; k++) {
        if (k % perChannel == 0) {
          ch = ManagedChannelBuilder.forAddress(s.host(), s.port()).usePlaintext().build();
          channels.add(ch);
        }
        long[] last = {-1};
        StreamObserver<ClientMessage>[] out = new StreamObserver[1];
        out[0] = NamingGrpc.newStub(ch).connect(new StreamObserver<>() {
          @Override
          public void onNext(ServerMessage m) {
            if (!m.hasConfigUpdate()) {
              return;
            }
            long now = System.nanoTime();
            long v = m.getConfigUpdate().getVersion();
            synchronized (last) {
              if (last[0] < 0) {
                subscribed.countDown();
              } else if (v <= last[0]) {
                outOfOrder.incrementAndGet();
              }
              last[0] = v;
            }
            int n = (int) (v - v0 - 1);
            if (n >= 0 && n < changes) {
              perDelivery.recordValue(Math.max(0, now - sentAt[n]) / 1000);
              if (delivered.incrementAndGet(n) == listeners) {
                synchronized (untilAll) {
                  untilAll.recordValue(Math.max(0, now - sentAt[n]) / 1000);
                }
                done.countDown();
              }
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
        out[0].onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("listener-" + k)).build());
        out[0].onNext(ClientMessage.newBuilder().setConfigSubscribe(ConfigSubscribe.newBuilder().setNamespace(NS)
            .setGroup(GROUP).setName("pushed.properties")).build());
      }
      if (!subscribed.await(120, TimeUnit.SECONDS)) {
        System.out.printf("Push: only %,d of %,d listeners got the config within 120 s%n",
            listeners - subscribed.getCount(), listeners);
        return;
      }
      for (int n = 0; n < changes; n++) {
        sentAt[n] = System.nanoTime();
        put(http, url, content(n));
        Thread.sleep(changeIntervalMs);  // pacing of the load, not synchronisation
      }
      boolean all = done.await(60, TimeUnit.SECONDS);
      Histogram d = perDelivery.getIntervalHistogram();
      System.out.printf("Publish → listener, %,d listeners, %d versions (%s; %d out of order):%n", listeners, changes,
          all ? "every listener got every version" : "NOT all delivered within 60 s", outOfOrder.get());
      System.out.printf("  per listener:        p50 %s  p99 %s  max %s%n", ms(d.getValueAtPercentile(50)),
          ms(d.getValueAtPercentile(99)), ms(d.getMaxValue()));
      System.out.printf("  until every listener: p50 %s  p99 %s  max %s%n%n",
          ms(untilAll.getValueAtPercentile(50)), ms(untilAll.getValueAtPercentile(99)), ms(untilAll.getMaxValue()));
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private void reads(HttpClient http, String base) throws Exception {
    for (int c = 0; c < 100; c++) {
      put(http, base + "read-" + c + ".properties", content(c));
    }
    Histogram latency = new Histogram(3);
    long count = run((t, i) -> {
      long t0 = System.nanoTime();
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base + "read-" + (i % 100)
          + ".properties")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("read failed: " + r.statusCode());
      }
      synchronized (latency) {
        latency.recordValue((System.nanoTime() - t0) / 1000);
      }
    });
    System.out.printf("Reads: %,.0f/s (%d threads, 100 configs of %,d bytes); p50 %s  p99 %s%n",
        count / (double) seconds, threads, size, ms(latency.getValueAtPercentile(50)),
        ms(latency.getValueAtPercentile(99)));
  }

  private void publishes(HttpClient http, String base) throws Exception {
    Histogram latency = new Histogram(3);
    long count = run((t, i) -> {
      long t0 = System.nanoTime();
      put(http, base + "write-" + t + ".properties", content((int) i));
      synchronized (latency) {
        latency.recordValue((System.nanoTime() - t0) / 1000);
      }
    });
    System.out.printf("Publishes: %,.0f/s (%d threads, one config each, %,d bytes, every write synced); "
        + "p50 %s  p99 %s%n", count / (double) seconds, threads, size, ms(latency.getValueAtPercentile(50)),
        ms(latency.getValueAtPercentile(99)));
  }

  interface Op {
    void run(int thread, long i) throws Exception;
  }

  /** Runs {@code op} on every thread for the configured seconds; returns how many completed. */
  private long run(Op op) throws Exception {
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread th = new Thread(() -> {
        try {
          for (long i = 0; System.nanoTime() < end; i++) {
            op.run(thread, i);
            done.incrementAndGet();
          }
        } catch (Exception e) {
          System.err.println("  " + e);
        }
      }, "bench-rest-" + t);
      th.start();
      ts.add(th);
    }
    for (Thread th : ts) {
      th.join();
    }
    return done.get();
  }

  private static String ms(long micros) {
    return String.format(Locale.ROOT, "%.1f ms", micros / 1000.0);
  }
}
