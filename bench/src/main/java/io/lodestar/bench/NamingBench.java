package io.lodestar.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Heartbeat;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.RegisterRequest;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.SubscribeRequest;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar bench naming}: N ephemeral instances over M SDK-like streams, heartbeating, and
 * K subscribers of one service; reports registration and heartbeat throughput, push latency, and
 * the server's CPU, heap and RSS. Speaks the SDK's gRPC stream directly so that one process can
 * stand in for thousands of clients.
 */
@Command(name = "naming", mixinStandardHelpOptions = true,
    description = "Registration, heartbeat and push load against a Lodestar server.")
final class NamingBench implements Callable<Integer> {
  @Option(names = "--server", description = "host:port of a running server; default: start one here")
  String server;

  @Option(names = "--server-heap", description = "heap of the server this tool starts; default ${DEFAULT-VALUE}")
  String serverHeap = "1g";

  @Option(names = "--cluster-nodes", description = "after the single node, run the same load against a cluster of "
      + "this many nodes started here (0: skip); default ${DEFAULT-VALUE}")
  int clusterNodes = 3;

  @Option(names = "--instances", description = "ephemeral instances; default ${DEFAULT-VALUE}")
  int instances = 100_000;

  @Option(names = "--connections", description = "SDK streams carrying them; default ${DEFAULT-VALUE}")
  int connections = 100;

  @Option(names = "--services", description = "services they spread over; default ${DEFAULT-VALUE}")
  int services = 1_000;

  @Option(names = "--metadata", description = "metadata entries per instance; default ${DEFAULT-VALUE}")
  int metadata = 5;

  @Option(names = "--heartbeat-seconds", description = "heartbeat period; default ${DEFAULT-VALUE}")
  int heartbeatSeconds = 5;

  @Option(names = "--hold-seconds", description = "how long to hold the instances alive; default ${DEFAULT-VALUE}")
  int holdSeconds = 30;

  @Option(names = "--subscribers", description = "subscribers of the pushed service; default ${DEFAULT-VALUE}")
  int subscribers = 1_000;

  @Option(names = "--changes", description = "changes pushed to them; default ${DEFAULT-VALUE}")
  int changes = 200;

  @Option(names = "--change-interval-ms", description = "pause between pushed changes; default ${DEFAULT-VALUE}")
  int changeIntervalMs = 20;

  private static final String NS = "default";

  /** Where the results go (a test reads them). */
  PrintStream report = System.out;

  @Override
  public Integer call() throws Exception {
    try (ServerUnderTest s = server == null ? ServerUnderTest.start(serverHeap) : ServerUnderTest.existing(server)) {
      if (!run(s)) {
        return 1;
      }
    }
    if (server == null && clusterNodes > 1) {
      report.printf("%n");
      try (ServerUnderTest s = ServerUnderTest.start(serverHeap, clusterNodes)) {
        if (!run(s)) {
          return 1;
        }
      }
    }
    return 0;
  }

  /** False when the server refused a registration stream (reported): nothing else is measured. */
  private boolean run(ServerUnderTest s) throws Exception {
    {
      report.printf("Lodestar naming benchmark against %s (%s)%n",
          s.nodes() > 1 ? "a " + s.nodes() + "-node cluster (streams spread over its nodes)" : s.address(),
          s.owned() ? "started here, heap " + serverHeap + (s.nodes() > 1 ? " per node; CPU, RSS, heap summed" : "")
              : "already running");
      report.printf("  %,d instances (%d metadata entries) over %d streams and %,d services; "
          + "heartbeat every %d s; %,d subscribers, %d changes%n%n", instances, metadata, connections, services,
          heartbeatSeconds, subscribers, changes);
      long heapBefore = s.owned() ? s.liveHeapBytes() : s.heapUsedBytes();
      List<ManagedChannel> channels = new ArrayList<>();
      try {
        List<Client> clients = register(s, channels);
        if (clients == null) {
          return false;
        }
        long heapAfter = s.owned() ? s.liveHeapBytes() : s.heapUsedBytes();
        report.printf("  server heap %s: %,d MiB before, %,d MiB after → %,d bytes per instance%n",
            s.owned() ? "live after full GC" : "in use (no GC forced: not our process)",
            heapBefore >> 20, heapAfter >> 20, (heapAfter - heapBefore) / Math.max(1, instances));
        hold(s, clients);
        push(s, channels);
        report.printf("%n  server RSS at the end: %s%n", s.rssBytes() < 0 ? "n/a (not our process)"
            : String.format(Locale.ROOT, "%,d MiB", s.rssBytes() >> 20));
      } finally {
        channels.forEach(ManagedChannel::shutdownNow);
      }
    }
    return true;
  }

  /**
   * Why the server ended a stream, as gRPC says it: a refused stream names the limit, e.g.
   * {@code RESOURCE_EXHAUSTED: too many open streams from 127.0.0.1: the limit of this server is
   * 1000 (--max-streams-per-address)}.
   */
  private static String why(Throwable t) {
    Status st = Status.fromThrowable(t);
    return st.getDescription() == null ? st.getCode().toString() : st.getCode() + ": " + st.getDescription();
  }

  /** The streams this run opens from this one address, which the server must take: a hint when it refuses. */
  private String streamsNeeded() {
    return String.format(Locale.ROOT, "this run opens %,d streams from one address (%d registration streams, "
        + "%,d subscribers, a writer): a server started by hand needs --max-streams-per-address %d or more",
        connections + subscribers + 1, connections, subscribers, connections + subscribers + 1);
  }

  /** One SDK-like stream. */
  private final class Client implements StreamObserver<ServerMessage> {
    final StreamObserver<ClientMessage> out;
    final Semaphore window = new Semaphore(512);
    final AtomicInteger acked = new AtomicInteger();
    final AtomicInteger errors = new AtomicInteger();
    final CountDownLatch welcomed = new CountDownLatch(1);
    // why the server ended the stream before its welcome (it refused it), else null
    volatile String refused;

    Client(NamingGrpc.NamingStub stub, String id) {
      out = stub.connect(this);
      send(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId(id)).build());
    }

    synchronized void send(ClientMessage m) {
      out.onNext(m);
    }

    @Override
    public void onNext(ServerMessage m) {
      if (m.hasWelcome()) {
        welcomed.countDown();
      } else if (m.hasRegistered()) {
        acked.incrementAndGet();
        window.release();
      } else if (m.hasError()) {
        errors.incrementAndGet();
        window.release();
      }
    }

    @Override
    public void onError(Throwable t) {
      // after the welcome, the run ends by shutting channels down: nothing to report
      if (welcomed.getCount() > 0) {
        refused = why(t);
        welcomed.countDown();
      }
    }

    @Override
    public void onCompleted() {}
  }

  private List<Client> register(ServerUnderTest s, List<ManagedChannel> channels) throws Exception {
    List<Client> clients = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      ManagedChannel ch = ManagedChannelBuilder.forAddress(s.host(c), s.port(c)).usePlaintext()
          .maxInboundMessageSize(64 << 20).build();
      channels.add(ch);
      clients.add(new Client(NamingGrpc.newStub(ch), "bench-" + c));
    }
    for (Client c : clients) {
      c.welcomed.await(30, TimeUnit.SECONDS);
    }
    List<String> refused = clients.stream().map(c -> c.refused).filter(r -> r != null).toList();
    if (!refused.isEmpty()) {
      // a refused stream takes no registration, and its sender would wait for answers for ever
      report.printf("Registration: %d of %d streams were refused by the server (%s); %s%n", refused.size(),
          connections, refused.get(0), streamsNeeded());
      return null;
    }
    long t0 = System.nanoTime();
    List<Thread> senders = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      int conn = c;
      Client client = clients.get(c);
      Thread t = new Thread(() -> {
        for (int i = conn; i < instances; i += connections) {
          client.window.acquireUninterruptibly();
          Instance.Builder b = Instance.newBuilder().setId("i-" + i).setHost("10." + (i >> 16 & 255) + "."
              + (i >> 8 & 255) + "." + (i & 255)).setPort(8080).setTtlSeconds(3 * heartbeatSeconds);
          for (int m = 0; m < metadata; m++) {
            b.putMetadata("key" + m, "value-" + m + "-" + (i % 10));
          }
          client.send(ClientMessage.newBuilder().setRequestId(i + 1L).setRegister(RegisterRequest.newBuilder()
              .setNamespace(NS).setService("svc-" + (i % services)).setInstance(b)).build());
        }
      }, "bench-register-" + c);
      t.start();
      senders.add(t);
    }
    for (Thread t : senders) {
      t.join();
    }
    for (Client c : clients) {
      c.window.acquire(512); // every request answered
      c.window.release(512);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    int acked = clients.stream().mapToInt(c -> c.acked.get()).sum();
    int errors = clients.stream().mapToInt(c -> c.errors.get()).sum();
    report.printf("Registration: %,d acknowledged (%d errors) in %.2f s → %,.0f instances/s%n", acked, errors,
        secs, acked / secs);
    return clients;
  }

  private void hold(ServerUnderTest s, List<Client> clients) throws Exception {
    ScheduledExecutorService beats = Executors.newScheduledThreadPool(2);
    AtomicLong sent = new AtomicLong();
    long periodMs = heartbeatSeconds * 1000L;
    for (int i = 0; i < clients.size(); i++) {
      Client c = clients.get(i);
      beats.scheduleAtFixedRate(() -> {
        c.send(ClientMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build());
        sent.incrementAndGet();
      }, periodMs * i / clients.size(), periodMs, TimeUnit.MILLISECONDS);
    }
    double cpu0 = s.cpuSeconds();
    long t0 = System.nanoTime();
    Thread.sleep(holdSeconds * 1000L); // the measured hold period itself
    double secs = (System.nanoTime() - t0) / 1e9;
    double cpu = s.cpuSeconds() - cpu0;
    long beatsSent = sent.get();
    String health = s.get("/v1/namespaces/" + NS + "/services").body();
    long healthy = 0;
    var m = java.util.regex.Pattern.compile("\"name\":\"svc-\\d+\",\"instances\":\\d+,\"healthy\":(\\d+)").matcher(health);
    while (m.find()) {
      healthy += Long.parseLong(m.group(1));
    }
    beats.shutdownNow();
    report.printf("Heartbeats: %,.0f stream heartbeats/s renewing %,.0f instances/s for %.0f s; "
        + "%,d of %,d instances healthy at the end%n", beatsSent / secs, beatsSent * (double) instances
            / clients.size() / secs, secs, healthy, instances);
    report.printf("  server CPU while holding: %s%n", Double.isNaN(cpu) ? "n/a (not our process)"
        : String.format(Locale.ROOT, "%.2f cores (%.1f CPU s over %.0f s)", cpu / secs, cpu, secs));
  }

  private void push(ServerUnderTest s, List<ManagedChannel> channels) throws Exception {
    String svc = "push-target";
    // this run's changes carry its own tag: a server that still holds an earlier run's changes
    // (--server, run again within their TTL) pushes those too, and they must not count as deliveries
    String run = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ":";
    long[] sentAt = new long[changes];
    AtomicLongArray delivered = new AtomicLongArray(changes);
    Histogram allDelivered = new Histogram(3);
    Recorder perDelivery = new Recorder(3);
    CountDownLatch subscribed = new CountDownLatch(subscribers);
    // subscriber streams the server ended before their snapshot (refused), and the first one's reason
    AtomicInteger refused = new AtomicInteger();
    AtomicReference<String> refusedWhy = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(changes);
    int perChannel = 100;
    ManagedChannel ch = null;
    for (int k = 0; k < subscribers; k++) {
      if (k % perChannel == 0) {
        ch = ManagedChannelBuilder.forAddress(s.host(k / perChannel), s.port(k / perChannel)).usePlaintext()
            .maxInboundMessageSize(64 << 20).build();
        channels.add(ch);
      }
      boolean[] seen = new boolean[changes];
      boolean[] first = {true};
      StreamObserver<ClientMessage>[] out = new StreamObserver[1];
      out[0] = NamingGrpc.newStub(ch).connect(new StreamObserver<>() {
        @Override
        public void onNext(ServerMessage m) {
          if (!m.hasUpdate()) {
            return;
          }
          long now = System.nanoTime();
          synchronized (seen) {
            if (first[0]) {
              first[0] = false;
              subscribed.countDown();
            }
            for (Instance i : m.getUpdate().getInstancesList()) {
              String seq = i.getMetadataMap().get("seq");
              if (seq == null || !seq.startsWith(run)) {
                continue; // not a change of this run
              }
              int n = Integer.parseInt(seq.substring(run.length()));
              if (!seen[n]) {
                seen[n] = true;
                perDelivery.recordValue(Math.max(0, now - sentAt[n]) / 1000);
                if (delivered.incrementAndGet(n) == subscribers) {
                  synchronized (allDelivered) {
                    allDelivered.recordValue(Math.max(0, now - sentAt[n]) / 1000);
                  }
                  done.countDown();
                }
              }
            }
          }
        }

        @Override
        public void onError(Throwable t) {
          // before its snapshot: refused (counted, so the wait below does not run out for it);
          // after it, the run ends by shutting channels down
          synchronized (seen) {
            if (first[0]) {
              first[0] = false;
              refused.incrementAndGet();
              refusedWhy.compareAndSet(null, why(t));
              subscribed.countDown();
            }
          }
        }

        @Override
        public void onCompleted() {}
      });
      synchronized (out) {
        out[0].onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId("sub-" + k)).build());
        out[0].onNext(ClientMessage.newBuilder().setSubscribe(SubscribeRequest.newBuilder().setNamespace(NS)
            .setService(svc)).build());
      }
    }
    if (!subscribed.await(60, TimeUnit.SECONDS)) {
      report.printf("Push: only %,d of %,d subscribers got their snapshot within 60 s%n",
          subscribers - subscribed.getCount() - refused.get(), subscribers);
      return;
    }
    if (refused.get() > 0) {
      report.printf("Push: %,d of %,d subscriber streams were refused by the server (%s); %s%n", refused.get(),
          subscribers, refusedWhy.get(), streamsNeeded());
      return;
    }
    ManagedChannel wch = ManagedChannelBuilder.forAddress(s.host(), s.port()).usePlaintext().build();
    channels.add(wch);
    Client writer = new Client(NamingGrpc.newStub(wch), "bench-push-writer");
    writer.welcomed.await(30, TimeUnit.SECONDS);
    if (writer.refused != null) {
      report.printf("Push: the writer's stream was refused by the server (%s); %s%n", writer.refused,
          streamsNeeded());
      return;
    }
    for (int n = 0; n < changes; n++) {
      writer.window.acquire();
      sentAt[n] = System.nanoTime();
      writer.send(ClientMessage.newBuilder().setRequestId(n + 1L).setRegister(RegisterRequest.newBuilder()
          .setNamespace(NS).setService(svc).setInstance(Instance.newBuilder().setId("c-" + n).setHost("10.9.0.1")
              .setPort(1 + n).setTtlSeconds(60).putMetadata("seq", run + n))).build());
      Thread.sleep(changeIntervalMs); // pacing of the load, not synchronisation
    }
    boolean all = done.await(60, TimeUnit.SECONDS);
    Histogram d = perDelivery.getIntervalHistogram();
    report.printf("Push to %,d subscribers, %d changes (%s):%n", subscribers, changes,
        all ? "all delivered" : "NOT all delivered within 60 s");
    report.printf("  per delivery:            p50 %s  p99 %s  max %s%n", ms(d.getValueAtPercentile(50)),
        ms(d.getValueAtPercentile(99)), ms(d.getMaxValue()));
    report.printf("  until every subscriber:  p50 %s  p99 %s  max %s%n",
        ms(allDelivered.getValueAtPercentile(50)), ms(allDelivered.getValueAtPercentile(99)),
        ms(allDelivered.getMaxValue()));
  }

  private static String ms(long micros) {
    return String.format(Locale.ROOT, "%.1f ms", micros / 1000.0);
  }
}
