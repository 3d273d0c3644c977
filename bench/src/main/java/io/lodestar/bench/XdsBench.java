package io.lodestar.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
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
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar bench xds}: N xDS clients, each on its own ADS stream with its own node, walk
 * LDS → RDS → CDS → EDS for one service exactly as a proxyless gRPC client does, and ACK every
 * response. Then instances are registered over REST, one per change; for each change, the time
 * from the POST to each client holding an assignment with the new instance, and to every client
 * holding it. Raw ADS streams rather than grpc-xds channels: grpc-xds shares one xDS client per
 * target in a JVM, so a thousand channels in one process would be one stream.
 */
@Command(name = "xds", mixinStandardHelpOptions = true,
    description = "xDS push: time from a registry change to N proxyless-style clients having it.")
final class XdsBench implements Callable<Integer> {
  @Option(names = "--server", description = "host:port of a running server; default: start one here")
  String server;

  @Option(names = "--server-heap", description = "heap of the server this tool starts; default ${DEFAULT-VALUE}")
  String serverHeap = "1g";

  @Option(names = "--clients", description = "xDS clients (ADS streams); default ${DEFAULT-VALUE}")
  int clients = 1000;

  @Option(names = "--changes", description = "registry changes (one new instance each); default ${DEFAULT-VALUE}")
  int changes = 20;

  @Option(names = "--change-interval-ms", description = "pause between changes; default ${DEFAULT-VALUE}")
  int changeIntervalMs = 500;

  private static final String SERVICE = "xds-bench";
  /** Set when the bench closes its channels: the streams' ends are expected then. */
  private static final java.util.concurrent.atomic.AtomicBoolean STOPPING = new java.util.concurrent.atomic.AtomicBoolean();
  private static final int BASE_PORT = 20_000;
  private static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  private static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  private static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  @Override
  public Integer call() throws Exception {
    try (ServerUnderTest s = server == null ? ServerUnderTest.start(serverHeap) : ServerUnderTest.existing(server)) {
      System.out.printf("Lodestar xDS benchmark against %s (%s)%n", s.address(),
          s.owned() ? "started here, heap " + serverHeap : "already running");
      System.out.printf("  %,d ADS clients on %s; %d changes every %d ms%n%n", clients, SERVICE, changes,
          changeIntervalMs);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      String instances = "http://" + s.address() + "/v1/namespaces/default/services/" + SERVICE + "/instances";
      for (int k = 0; k < 3; k++) {
        register(http, instances, 10_000 + k);
      }
      run(s, http, instances);
    }
    return 0;
  }

  private static void register(HttpClient http, String url, int port) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(
        "{\"host\":\"127.0.0.1\",\"port\":" + port + ",\"ephemeral\":false}")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("register failed: " + r.statusCode() + " " + r.body());
    }
  }

  private void run(ServerUnderTest s, HttpClient http, String instances) throws Exception {
    long[] sentAt = new long[changes];
    AtomicIntegerArray delivered = new AtomicIntegerArray(changes);
    Recorder perClient = new Recorder(3);
    Histogram untilAll = new Histogram(3);
    CountDownLatch ready = new CountDownLatch(clients);
    CountDownLatch done = new CountDownLatch(changes);
    List<ManagedChannel> channels = new ArrayList<>();
    ManagedChannel ch = null;
    try {
      for (int k = 0; k < clients; k++) {
        if (k % 100 == 0) {
          ch = ManagedChannelBuilder.forAddress(s.host(), s.port()).usePlaintext().build();
          channels.add(ch);
        }
        Node node = Node.newBuilder().setId("bench-" + k).setUserAgentName("lodestar-bench")
            .setMetadata(Struct.newBuilder().putFields("lodestar.namespace",
                Value.newBuilder().setStringValue("default").build()))
            .build();
        new Client(node, ch, ready, (n, now) -> {
          perClient.recordValue(Math.max(0, now - sentAt[n]) / 1000);
          if (delivered.incrementAndGet(n) == clients) {
            synchronized (untilAll) {
              untilAll.recordValue(Math.max(0, now - sentAt[n]) / 1000);
            }
            done.countDown();
          }
        }).start();
      }
      if (!ready.await(180, TimeUnit.SECONDS)) {
        System.out.printf("Only %,d of %,d clients had the service's endpoints within 180 s%n",
            clients - ready.getCount(), clients);
        return;
      }
      double cpu0 = s.owned() ? s.cpuSeconds() : Double.NaN;
      for (int n = 0; n < changes; n++) {
        sentAt[n] = System.nanoTime();
        register(http, instances, BASE_PORT + n);
        Thread.sleep(changeIntervalMs);  // pacing of the load, not synchronisation
      }
      boolean all = done.await(60, TimeUnit.SECONDS);
      double cpu = s.owned() ? s.cpuSeconds() - cpu0 : Double.NaN;
      Histogram d = perClient.getIntervalHistogram();
      System.out.printf("Registry change → xDS client, %,d clients, %d changes (%s):%n", clients, changes,
          all ? "every client got every change" : "NOT all delivered within 60 s");
      System.out.printf("  per client:        p50 %s  p99 %s  max %s%n", ms(d.getValueAtPercentile(50)),
          ms(d.getValueAtPercentile(99)), ms(d.getMaxValue()));
      System.out.printf("  until every client: p50 %s  p99 %s  max %s%n", ms(untilAll.getValueAtPercentile(50)),
          ms(untilAll.getValueAtPercentile(99)), ms(untilAll.getMaxValue()));
      if (s.owned()) {
        System.out.printf("  server CPU per change: %.1f ms (REST write + rebuild + %,d pushes)%n%n",
            cpu * 1000 / changes, clients);
      }
    } finally {
      STOPPING.set(true);
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** Told when a client first holds change {@code n}. */
  private interface Delivery {
    void delivered(int n, long nanos);
  }

  /** One proxyless-style client: LDS → RDS → CDS → EDS, ACKing each response. */
  private static final class Client implements StreamObserver<DiscoveryResponse> {
    private final Node node;
    private final ManagedChannel channel;
    private final CountDownLatch ready;
    private final Delivery delivery;
    private StreamObserver<DiscoveryRequest> out;
    private int seen = -1;          // highest change held; guarded by this
    private boolean hasEndpoints;   // guarded by this

    Client(Node node, ManagedChannel channel, CountDownLatch ready, Delivery delivery) {
      this.node = node;
      this.channel = channel;
      this.ready = ready;
      this.delivery = delivery;
    }

    void start() {
      out = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this);
      request(LDS, SERVICE, "", "");
    }

    private synchronized void request(String type, String name, String version, String nonce) {
      out.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type).addResourceNames(name)
          .setVersionInfo(version).setResponseNonce(nonce).build());
    }

    @Override
    public void onNext(DiscoveryResponse r) {
      long now = System.nanoTime();
      request(r.getTypeUrl(), SERVICE, r.getVersionInfo(), r.getNonce()); // ACK
      switch (r.getTypeUrl()) {
        case LDS -> request(RDS, SERVICE, "", "");
        case RDS -> request(CDS, SERVICE, "", "");
        case CDS -> request(EDS, SERVICE, "", "");
        case EDS -> endpoints(r, now);
        default -> { }
      }
    }

    private void endpoints(DiscoveryResponse r, long now) {
      int highest = -1;
      for (com.google.protobuf.Any a : r.getResourcesList()) {
        try {
          for (LocalityLbEndpoints l : a.unpack(ClusterLoadAssignment.class).getEndpointsList()) {
            for (LbEndpoint e : l.getLbEndpointsList()) {
              highest = Math.max(highest, e.getEndpoint().getAddress().getSocketAddress().getPortValue() - BASE_PORT);
            }
          }
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      }
      synchronized (this) {
        if (!hasEndpoints) {
          hasEndpoints = true;
          ready.countDown();
        }
        for (int n = seen + 1; n <= highest; n++) {
          delivery.delivered(n, now);
        }
        seen = Math.max(seen, highest);
      }
    }

    @Override
    public void onError(Throwable t) {
      if (!STOPPING.get()) {
        System.err.println("ADS stream of " + node.getId() + " failed: " + t);
      }
    }

    @Override
    public void onCompleted() {}
  }

  private static String ms(long micros) {
    return String.format(Locale.ROOT, "%,.1f ms", micros / 1000.0);
  }
}
