package io.lodestar.bench.compare;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One application's Eureka client, speaking Eureka's REST API (v2, JSON) the way Eureka's own
 * clients do: register, then a heartbeat every 30 s per instance (re-registering when the server
 * answers 404), polling every 30 s to discover, and deregistering on a clean shutdown.
 */
final class EurekaPeerClient implements PeerClient {
  /** Eureka's client defaults: lease-renewal-interval 30 s, lease-expiration-duration 90 s. */
  static final int RENEWAL_SECONDS = 30;
  static final int LEASE_SECONDS = 90;
  /** Eureka's client default registry-fetch-interval-seconds. */
  static final Duration DEFAULT_POLL = Duration.ofSeconds(30);

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger IDS = new AtomicInteger();

  private final String base;
  private final Duration poll;
  private final Duration renewal;
  private final ExecutorService io;
  private final HttpClient http;
  /** One scheduler per client for all its heartbeats and polls; the requests themselves are async. */
  private final ScheduledExecutorService scheduler;
  private final Map<String, Registration> registered = new ConcurrentHashMap<>();
  private final List<ScheduledFuture<?>> watches = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private record Registration(Inst inst, String app, long lastDirtyTimestamp, ScheduledFuture<?> heartbeat) {}

  /** {@code base} is e.g. "http://127.0.0.1:8761/eureka"; {@code poll} the watch interval. */
  EurekaPeerClient(String base, Duration poll, Duration renewal) {
    this.base = base;
    this.poll = poll;
    this.renewal = renewal;
    int id = IDS.incrementAndGet();
    this.io = Executors.newCachedThreadPool(daemon("eureka-client-" + id + "-io"));
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).executor(io).build();
    this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("eureka-client-" + id));
  }

  /** Eureka stores application names upper-cased. */
  static String app(String service) {
    return service.toUpperCase(Locale.ROOT);
  }

  @Override
  public void register(Inst inst) throws Exception {
    String app = app(inst.service());
    long dirty = System.currentTimeMillis();
    expect(http.send(registerRequest(inst, app, dirty), HttpResponse.BodyHandlers.ofString()), "register " + inst.id(), 204);
    // Spread first heartbeats over one interval, so a burst of registrations does not renew in lockstep.
    long first = ThreadLocalRandom.current().nextLong(1, renewal.toMillis() + 1);
    ScheduledFuture<?> hb = scheduler.scheduleAtFixedRate(() -> heartbeat(inst.id()), first, renewal.toMillis(),
        TimeUnit.MILLISECONDS);
    Registration old = registered.put(inst.id(), new Registration(inst, app, dirty, hb));
    if (old != null) {
      old.heartbeat().cancel(false);
    }
  }

  private HttpRequest registerRequest(Inst inst, String app, long dirty) {
    return HttpRequest.newBuilder(URI.create(base + "/apps/" + app)).timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json").header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(EurekaJson.instanceBody(inst, app, dirty))).build();
  }

  /** {@code PUT apps/{APP}/{id}?status=UP&lastDirtyTimestamp=...}, as Eureka's clients renew. */
  private void heartbeat(String id) {
    Registration r = registered.get(id);
    if (r == null || closed.get()) {
      return;
    }
    HttpRequest put = HttpRequest.newBuilder(URI.create(base + "/apps/" + r.app() + "/" + id
            + "?status=UP&lastDirtyTimestamp=" + r.lastDirtyTimestamp()))
        .timeout(REQUEST_TIMEOUT).header("Accept", "application/json")
        .PUT(HttpRequest.BodyPublishers.noBody()).build();
    http.sendAsync(put, HttpResponse.BodyHandlers.discarding()).thenAccept(resp -> {
      // 404: the server lost the lease (evicted, or restarted); Eureka's clients register again.
      if (resp.statusCode() == 404 && registered.get(id) == r && !closed.get()) {
        http.sendAsync(registerRequest(r.inst(), r.app(), r.lastDirtyTimestamp()), HttpResponse.BodyHandlers.discarding());
      }
    }); // a failed heartbeat is retried at the next interval, as Eureka's clients do
  }

  @Override
  public void deregister(Inst inst) throws Exception {
    Registration r = registered.remove(inst.id());
    if (r != null) {
      r.heartbeat().cancel(false);
    }
    cancel(app(inst.service()), inst.id());
  }

  private void cancel(String app, String id) throws IOException, InterruptedException {
    HttpRequest delete = HttpRequest.newBuilder(URI.create(base + "/apps/" + app + "/" + id))
        .timeout(REQUEST_TIMEOUT).DELETE().build();
    // 404: already gone (e.g. evicted), which is what deregistering asks for
    expect(http.send(delete, HttpResponse.BodyHandlers.ofString()), "deregister " + id, 200, 204, 404);
  }

  @Override
  public AutoCloseable watch(String service, Consumer<Set<String>> onChange) {
    AtomicBoolean inFlight = new AtomicBoolean();
    HttpRequest get = getRequest(service);
    Runnable pollOnce = () -> {
      if (!inFlight.compareAndSet(false, true)) {
        return; // the previous poll is still out: skip a beat rather than pile up
      }
      http.sendAsync(get, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, error) -> {
        try {
          if (error == null) {
            onChange.accept(ids(resp, "poll " + service));
          }
          // on failure the client keeps its last view until the next poll, as Eureka's clients do
        } catch (Exception e) {
          // an unexpected answer: the same, keep the last view
        } finally {
          inFlight.set(false);
        }
      });
    };
    // Eureka's clients fetch once at start, then every registry-fetch-interval.
    ScheduledFuture<?> f = scheduler.scheduleWithFixedDelay(pollOnce, 0, poll.toMillis(), TimeUnit.MILLISECONDS);
    watches.add(f);
    return () -> {
      f.cancel(false);
      watches.remove(f);
    };
  }

  @Override
  public int read(String service) throws Exception {
    return ids(http.send(getRequest(service), HttpResponse.BodyHandlers.ofString()), "read " + service).size();
  }

  private HttpRequest getRequest(String service) {
    return HttpRequest.newBuilder(URI.create(base + "/apps/" + app(service))).timeout(REQUEST_TIMEOUT)
        .header("Accept", "application/json").GET().build();
  }

  /** The instance ids of a {@code GET apps/{APP}} answer; 404 is an unknown application, so none. */
  private static Set<String> ids(HttpResponse<String> resp, String what) throws IOException {
    if (resp.statusCode() == 404) {
      return Set.of();
    }
    expect(resp, what, 200);
    return EurekaJson.instanceIds(resp.body());
  }

  private static void expect(HttpResponse<?> resp, String what, int... ok) throws IOException {
    for (int code : ok) {
      if (resp.statusCode() == code) {
        return;
      }
    }
    String body = resp.body() instanceof String s ? s : "";
    throw new IOException("eureka: " + what + " got HTTP " + resp.statusCode() + " from " + resp.uri()
        + (body.isEmpty() ? "" : ": " + body.substring(0, Math.min(300, body.length()))));
  }

  /** A clean shutdown, as an application's Eureka client does it: stop renewing, then deregister. */
  @Override
  public void close() throws Exception {
    if (closed.getAndSet(true)) {
      return;
    }
    stopSchedules();
    Exception first = null;
    for (Registration r : new ArrayList<>(registered.values())) {
      try {
        cancel(r.app(), r.inst().id());
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    registered.clear();
    shutdownThreads();
    if (first != null) {
      throw first;
    }
  }

  /** Stops heartbeats and polls without deregistering: the server is going away. */
  void abandon() {
    if (closed.getAndSet(true)) {
      return;
    }
    stopSchedules();
    registered.clear();
    shutdownThreads();
  }

  private void stopSchedules() {
    watches.forEach(f -> f.cancel(false));
    watches.clear();
    registered.values().forEach(r -> r.heartbeat().cancel(false));
  }

  private void shutdownThreads() {
    scheduler.shutdownNow();
    io.shutdown(); // in-flight async requests complete on it; its idle threads then end
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
