package io.lodestar.bench;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lodestar bench soak --minutes N}: mixed load with connects and disconnects against a
 * server process this tool starts, sampling its live heap (after a full GC), RSS, file
 * descriptors and threads; after the warm-up, each must stay flat (the last third of the samples
 * against the first third, within a tolerance), else the exit code is 1.
 *
 * <p>The load: {@code --clients} workers, each in a loop: connect an SDK client, register an
 * instance (5 s TTL), list a service, read a config, hold the stream half a second to three, close;
 * plus REST writes (config publishes, instance registrations that expire) and long polls that time
 * out. Instances come and go, so the registry's size stays bounded: what grows is a leak.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "Mixed load with connects and disconnects; heap, RSS, file descriptors and threads must stay flat.")
public final class SoakBench implements Callable<Integer> {
  @Option(names = "--minutes", description = "how long; default ${DEFAULT-VALUE}")
  double minutes = 10;

  @Option(names = "--warmup-minutes", description = "not judged; default: a fifth of --minutes, at least 0.5")
  double warmupMinutes = -1;

  @Option(names = "--clients", description = "concurrent SDK workers connecting and disconnecting; default ${DEFAULT-VALUE}")
  int clients = 40;

  @Option(names = "--sample-seconds", description = "seconds between samples; default ${DEFAULT-VALUE}")
  int sampleSeconds = 10;

  @Option(names = "--server-heap", description = "heap of the server this tool starts; default ${DEFAULT-VALUE}")
  String serverHeap = "256m";

  record Sample(double atSeconds, long liveHeap, long rss, long fds, long threads, long cycles) {}

  @Override
  public Integer call() throws Exception {
    // every connect and close is an INFO line of the SDK: thousands here; keep its warnings only
    java.util.logging.Logger.getLogger(LodestarClient.class.getName()).setLevel(java.util.logging.Level.WARNING);
    double warm = warmupMinutes >= 0 ? warmupMinutes : Math.max(0.5, minutes / 5);
    System.out.printf(Locale.ROOT, "soak: %.1f min (warm-up %.1f), %d clients, samples every %d s, server heap %s%n",
        minutes, warm, clients, sampleSeconds, serverHeap);
    try (ServerUnderTest s = ServerUnderTest.start(serverHeap)) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong cycles = new AtomicLong();
      AtomicLong errors = new AtomicLong();
      ExecutorService workers = Executors.newFixedThreadPool(clients + 2);
      for (int w = 0; w < clients; w++) {
        int id = w;
        workers.submit(() -> sdkLoop(s, id, stop, cycles, errors));
      }
      workers.submit(() -> restLoop(s, stop, errors));
      workers.submit(() -> longPollLoop(s, stop, errors));

      List<Sample> samples = new ArrayList<>();
      long t0 = System.nanoTime();
      long end = t0 + (long) (minutes * 60e9);
      System.out.println("   t(s)  live heap MiB   RSS MiB    fds  threads   cycles");
      while (System.nanoTime() < end) {
        long next = System.nanoTime() + TimeUnit.SECONDS.toNanos(sampleSeconds);
        Sample x = new Sample((System.nanoTime() - t0) / 1e9, s.liveHeapBytes(), s.rssBytes(), s.fileDescriptors(),
            s.threads(), cycles.get());
        samples.add(x);
        System.out.printf(Locale.ROOT, "%7.0f  %13.1f  %8.1f  %5d  %7d  %7d%n", x.atSeconds(), x.liveHeap() / 1048576.0,
            x.rss() / 1048576.0, x.fds(), x.threads(), x.cycles());
        TimeUnit.NANOSECONDS.sleep(Math.max(0, next - System.nanoTime()));  // the sampling period
      }
      stop.set(true);
      workers.shutdown();
      workers.awaitTermination(30, TimeUnit.SECONDS);

      List<Sample> judged = samples.stream().filter(x -> x.atSeconds() >= warm * 60).toList();
      if (judged.size() < 6) {
        System.out.println("soak: too few samples after the warm-up to judge (need 6); run longer");
        return 1;
      }
      int third = judged.size() / 3;
      List<Sample> first = judged.subList(0, third);
      List<Sample> last = judged.subList(judged.size() - third, judged.size());
      boolean flat = true;
      flat &= verdict("live heap", first, last, Sample::liveHeap, 0.10, 8L << 20, "MiB", 1048576.0);
      flat &= verdict("RSS", first, last, Sample::rss, 0.10, 32L << 20, "MiB", 1048576.0);
      flat &= verdict("file descriptors", first, last, Sample::fds, 0.10, 20, "", 1);
      flat &= verdict("threads", first, last, Sample::threads, 0.10, 5, "", 1);
      double loadAvg = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      System.out.printf(Locale.ROOT, "soak: %d connect/disconnect cycles, %d errors, load average %.1f on %d cores: %s%n",
          cycles.get(), errors.get(), loadAvg, Runtime.getRuntime().availableProcessors(),
          flat ? "FLAT after warm-up" : "GROWING after warm-up");
      return flat ? 0 : 1;
    }
  }

  private static boolean verdict(String what, List<Sample> first, List<Sample> last,
      java.util.function.ToLongFunction<Sample> f, double share, long slack, String unit, double scale) {
    double a = first.stream().mapToLong(f).average().orElse(0);
    double b = last.stream().mapToLong(f).average().orElse(0);
    boolean ok = b <= a * (1 + share) || b - a <= slack;
    System.out.printf(Locale.ROOT, "  %-17s first third %10.1f %s, last third %10.1f %s (%+.1f%%): %s%n", what,
        a / scale, unit, b / scale, unit, a == 0 ? 0 : (b - a) * 100 / a, ok ? "flat" : "GROWS");
    return ok;
  }

  private static void sdkLoop(ServerUnderTest s, int id, AtomicBoolean stop, AtomicLong cycles, AtomicLong errors) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    int n = 0;
    while (!stop.get()) {
      LodestarClient c = LodestarClient.builder().servers(s.address()).clientId("soak-" + id + "-" + n)
          .requestTimeout(Duration.ofSeconds(30)).build();
      try {
        c.register(RegistrationSpec.builder().service("soak-" + (id % 8)).host("10.77." + (id % 250) + "." + (n % 250))
            .port(1000 + (n % 50_000)).ttlSeconds(5).build());
        c.getInstances("default", "soak-" + ((id + 1) % 8));
        c.configs().get("default", "soak", "app.properties");
        Thread.sleep(r.nextLong(500, 3_000));  // the load's own pacing: a client that holds its stream a while
        cycles.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        errors.incrementAndGet();
      } finally {
        c.close();
      }
      n++;
    }
  }

  private static void restLoop(ServerUnderTest s, AtomicBoolean stop, AtomicLong errors) {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    int n = 0;
    while (!stop.get()) {
      try {
        send(http, "PUT", "http://" + s.address() + "/v1/namespaces/default/configs/soak/app.properties",
            "version=" + n);
        send(http, "POST", "http://" + s.address() + "/v1/namespaces/default/services/soak-rest/instances",
            "{\"host\":\"10.78.0." + (n % 250) + "\",\"port\":" + (2000 + n % 20_000) + ",\"ttlSeconds\":5}");
        n++;
        Thread.sleep(200);  // pacing: five REST writes a second
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        errors.incrementAndGet();
      }
    }
  }

  private static void longPollLoop(ServerUnderTest s, AtomicBoolean stop, AtomicLong errors) {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    while (!stop.get()) {
      try {
        send(http, "GET", "http://" + s.address() + "/v1/namespaces/default/services/soak-idle/instances?index=999999999&wait=2s",
            null);
      } catch (Exception e) {
        errors.incrementAndGet();
      }
    }
  }

  private static void send(HttpClient http, String method, String url, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<Void> r = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() >= 500) {
      throw new IllegalStateException(method + " " + url + " -> " + r.statusCode());
    }
  }
}
