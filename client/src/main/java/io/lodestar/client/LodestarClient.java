package io.lodestar.client;

import io.grpc.ManagedChannel;
import io.lodestar.client.Connection.InstanceKey;
import io.lodestar.client.Names.ServerAddress;
import io.lodestar.client.ServiceEntry.ListenerHandle;
import io.lodestar.client.internal.Instances;
import io.lodestar.client.internal.Logs;
import io.lodestar.client.internal.RuleSet;
import io.lodestar.client.internal.SnapshotDecoder;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Lodestar Java SDK: registers this process's instances and discovers others, over one
 * bidirectional gRPC stream to one server of the cluster.
 *
 * <pre>{@code
 * try (LodestarClient client = LodestarClient.builder().servers(List.of("10.0.0.1:8700")).build()) {
 *   client.register(RegistrationSpec.builder().service("orders").host("10.0.0.7").port(8080).build());
 *   Instance target = client.selectOne("payments");   // in the client's namespace ("default")
 * }
 * }</pre>
 *
 * <p>Design. The client owns one control thread (a serial queue on threads the JVM's clients
 * share, {@link ControlLoop}); the stream's callbacks and every request post tasks to it, so all connection and cache state is single-threaded and lock-free (see
 * {@link Connection} and {@link ServiceCache}). Discovery reads never go there: per service, the
 * control thread publishes an immutable {@link ServiceSnapshot} with one volatile write, and
 * {@link #selectOne}, {@link #getInstances} and {@link #getHealthyInstances} are two lock-free map
 * lookups and one volatile read once the service is known. Listeners run on the listener executor,
 * one serial queue per listener.
 *
 * <p>Failover. If no server is reachable, at start or later, the client keeps serving the last
 * known lists (from memory, or from the failover cache directory when one is configured), reports
 * {@link ClientStatus.State#DISCONNECTED_SERVING_CACHE}, and reconnects in the background with
 * exponential backoff and jitter, trying each listed server in turn. After reconnecting it
 * registers its instances again (same ids) and resubscribes from the revisions it holds.
 *
 * <p>Instances registered here are ephemeral unless their spec says persistent: owned by this
 * client's id, kept alive by the stream's heartbeats, and deregistered at once by {@link #close()}.
 * A persistent one stays until deregistered.
 *
 * <p>Namespaces. Every call that takes a namespace has a form without it, which uses the
 * client's ({@link Builder#namespace}, default {@value RegistrationSpec#DEFAULT_NAMESPACE}). A
 * namespace that does not exist is an error ({@code not_found}), as REST's 404; a service that
 * does not exist yet is an empty list, as in REST.
 */
public final class LodestarClient implements AutoCloseable {
  private static final System.Logger LOG = Logs.get(LodestarClient.class.getName());
  static final String VERSION = versionOrDev();

  /**
   * TCP connect plus the server's Welcome. Generous, because a server that just started on a busy
   * machine accepts at once but may take seconds to answer; the TCP part alone is bounded by
   * {@link Connection#TCP_CONNECT_LIMIT}, so an unreachable address still fails over quickly.
   */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);
  /** A client is back within this of a server becoming reachable, whatever the outage length. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(2);
  /** How long {@link #close()} waits for the server to take the Goodbye. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(3);

  private final String clientId;
  private final String namespace;
  private final Duration requestTimeout;
  private final ControlLoop control;
  private final Connection connection;
  private final ServiceCache cache;
  private final DiskCache disk;
  private final ConfigFiles configFiles;
  private final ConfigCache configs;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Where a {@link #fetchAsync} future completes: application code stays off gRPC's event loop. */
  private final Executor listeners;

  private LodestarClient(Builder b, List<ServerAddress> servers) {
    this.clientId = b.clientId != null ? b.clientId : UUID.randomUUID().toString();
    this.namespace = b.namespace;
    this.requestTimeout = b.requestTimeout;
    String tag = shortId(clientId);
    this.control = ControlLoop.shared("lodestar client " + tag);
    // the listeners' order is each listener's own queue (SerialDispatcher), so clients can share threads
    Executor listeners = b.listenerExecutor != null ? b.listenerExecutor : SharedThreads.listeners();
    this.listeners = listeners;
    this.disk = b.cacheDir == null ? null : new DiskCache(b.cacheDir, "lodestar-cache-" + tag);
    this.connection = new Connection(servers, clientId, b.labels, b.connectTimeout,
        new Backoff(b.initialBackoff, b.maxBackoff), control, listeners, b.token);
    this.cache = new ServiceCache(connection, disk, listeners);
    connection.setCache(cache);
    this.configFiles = b.cacheDir == null ? null : new ConfigFiles(b.cacheDir, "lodestar-config-cache-" + tag);
    this.configs = new ConfigCache(connection, configFiles, listeners, b.requestTimeout, namespace);
    connection.setConfigCache(configs);
    if (b.tls != null) {
      connection.setTls(b.tls);
    }
    connection.start();
  }

  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------ governance hooks

  static {
    // the governance package's quota and call-statistics plumbing, kept off this class's public API
    io.lodestar.client.internal.StreamChannel.Access.install(c -> c.new Channel());
  }

  /** Quota reports and grants, call statistics, on this client's stream (see StreamChannel). */
  private final class Channel implements io.lodestar.client.internal.StreamChannel {
    @Override
    public CompletableFuture<Boolean> sendCallStats(io.lodestar.api.v1.CallStatsReport report) {
      Objects.requireNonNull(report, "report");
      CompletableFuture<Boolean> sent = new CompletableFuture<>();
      if (closed.get()) {
        sent.complete(false);
        return sent;
      }
      connection.post(() -> sent.complete(connection.sendCallStats(report)));
      return sent;
    }

    @Override
    public CompletableFuture<Boolean> send(io.lodestar.api.v1.QuotaReport report) {
      Objects.requireNonNull(report, "report");
      CompletableFuture<Boolean> sent = new CompletableFuture<>();
      if (closed.get()) {
        sent.complete(false);
        return sent;
      }
      connection.post(() -> sent.complete(connection.sendQuotaReport(report)));
      return sent;
    }

    @Override
    public void onGrant(java.util.function.Consumer<io.lodestar.api.v1.QuotaGrant> handler) {
      connection.setQuotaHandler(handler);
    }
  }

  /** The id this client says Hello with; it owns the instances registered here. */
  public String clientId() {
    return clientId;
  }

  /** The namespace of the calls that name none (and of specs that set none). */
  public String namespace() {
    return namespace;
  }

  // ------------------------------------------------------------------ registration

  /**
   * Registers an instance (ephemeral unless the spec says persistent; in the client's namespace
   * unless the spec names one) and waits (up to the request timeout) for the server's answer.
   * If no server is reachable yet, the request waits for one within that time.
   *
   * @return the instance as stored, with its id (assigned as "host:port" when the spec had none)
   * @throws LodestarClientException when the server refuses it, on timeout, or when closed
   */
  public Instance register(RegistrationSpec spec) {
    // the caller's wait is the timeout: no timer per call (W1: one scheduled task and its cancel
    // on the control thread's queue for each registration)
    return awaitWithin(register(spec, false), () -> "register " + spec);
  }

  /** {@link #register} without blocking; the future fails with a timeout after the request timeout. */
  public CompletableFuture<Instance> registerAsync(RegistrationSpec spec) {
    return register(spec, true);
  }

  private CompletableFuture<Instance> register(RegistrationSpec spec, boolean timer) {
    Objects.requireNonNull(spec, "spec");
    CompletableFuture<io.lodestar.api.v1.Instance> result = new CompletableFuture<>();
    if (closed.get()) {
      result.completeExceptionally(Connection.closedException());
    } else {
      io.lodestar.api.v1.Instance instance = spec.toInstance(namespace);
      // on the caller's thread when the client's control loop is idle (its order kept): no hop there
      connection.postHere(() -> connection.register(instance, result));
      if (timer) {
        withTimeout(result, () -> "register " + spec);
      }
    }
    // the server answers without the metadata sent (it stores them as sent): they are the spec's;
    // a server from before that option sends them back
    Map<String, String> sent = spec.metadata();
    CompletableFuture<Instance> answer = result.thenApply(p -> Instances.fromProto(p,
        p.getMetadataCount() == 0 ? sent : p.getMetadataMap()));
    // a caller who gives up (cancels, or register's wait ran out) gives up the request too (the
    // connection then undoes a late success)
    answer.whenComplete((ok, err) -> {
      if (err != null && !result.isDone()) {
        result.completeExceptionally(err);
      }
    });
    return timer ? onListeners(answer, result) : answer;
  }

  /**
   * Deregisters an instance (this client's or any other) and waits for the server's answer. The
   * client stops re-registering it after reconnects in any case.
   *
   * @throws LodestarClientException when the server refuses (e.g. {@code not_found}), on timeout,
   *     or when closed
   */
  public void deregister(String namespace, String service, String id) {
    awaitWithin(deregister(namespace, service, id, false), () -> "deregister " + namespace + "/" + service + "/" + id);
  }

  /** {@link #deregister(String, String, String)} in the client's namespace. */
  public void deregister(String service, String id) {
    deregister(namespace, service, id);
  }

  /** {@link #deregisterAsync(String, String, String)} in the client's namespace. */
  public CompletableFuture<Void> deregisterAsync(String service, String id) {
    return deregisterAsync(namespace, service, id);
  }

  public CompletableFuture<Void> deregisterAsync(String namespace, String service, String id) {
    return deregister(namespace, service, id, true);
  }

  private CompletableFuture<Void> deregister(String namespace, String service, String id, boolean timer) {
    InstanceKey key = new InstanceKey(Names.name("namespace", namespace), Names.name("service", service),
        Names.name("id", id));
    CompletableFuture<Void> result = new CompletableFuture<>();
    if (closed.get()) {
      result.completeExceptionally(Connection.closedException());
      return result;
    }
    connection.postHere(() -> connection.deregister(key, result));
    return timer ? onListeners(withTimeout(result, () -> "deregister " + key), result) : result;
  }

  /**
   * An …Async call's future, completed on the listener executor: the answer now completes its
   * request on gRPC's event loop that read it, where the caller's callbacks must not run. A caller
   * who gives up (cancels) gives up the request too.
   */
  private <T> CompletableFuture<T> onListeners(CompletableFuture<T> answer, CompletableFuture<?> request) {
    CompletableFuture<T> out = new CompletableFuture<>();
    answer.whenCompleteAsync((ok, err) -> {
      if (err != null) {
        out.completeExceptionally(err instanceof java.util.concurrent.CompletionException && err.getCause() != null
            ? err.getCause() : err);
      } else {
        out.complete(ok);
      }
    }, listeners);
    out.whenComplete((ok, err) -> {
      if (err != null && !request.isDone()) {
        request.completeExceptionally(err);
      }
    });
    return out;
  }

  // ------------------------------------------------------------------ discovery

  /**
   * Reads a service's instances from the server once, without subscribing and without touching
   * the cache: for batch jobs and tools that want the server's current answer. Applications that
   * call a service repeatedly should use {@link #getInstances} (pushed, read locally).
   *
   * @throws LodestarClientException on timeout, or {@code not_found} when the namespace does not exist
   */
  public ServiceSnapshot fetch(String namespace, String service) {
    String ns = Names.name("namespace", namespace);
    String svc = Names.name("service", service);
    // the answer is awaited here and made a snapshot on this thread: no hop after the event loop
    return snapshotOf(ns, svc, await(fetched(ns, svc), () -> "fetch " + ns + "/" + svc));
  }

  /** {@link #fetch(String, String)} in the client's namespace. */
  public ServiceSnapshot fetch(String service) {
    return fetch(namespace, service);
  }

  /** {@link #fetchAsync(String, String)} in the client's namespace. */
  public CompletableFuture<ServiceSnapshot> fetchAsync(String service) {
    return fetchAsync(namespace, service);
  }

  /**
   * {@link #fetch(String, String)} without blocking. The future completes on the listener executor
   * (the builder's, or the SDK's shared one), never on gRPC's event loop that read the answer.
   */
  public CompletableFuture<ServiceSnapshot> fetchAsync(String namespace, String service) {
    String ns = Names.name("namespace", namespace);
    String svc = Names.name("service", service);
    return fetched(ns, svc).thenApplyAsync(u -> snapshotOf(ns, svc, u), listeners);
  }

  /** The decoded answer, completed where it arrives (the event loop) or failed by the request timeout. */
  private CompletableFuture<SnapshotDecoder.Snapshot> fetched(String ns, String svc) {
    CompletableFuture<SnapshotDecoder.Snapshot> result = new CompletableFuture<>();
    if (closed.get()) {
      result.completeExceptionally(Connection.closedException());
    } else {
      connection.fetchDirect(ns, svc, result, requestTimeout);  // timed by the connection's sweep
    }
    return result;
  }

  private static ServiceSnapshot snapshotOf(String ns, String svc, SnapshotDecoder.Snapshot u) {
    return ServiceSnapshot.of(ns, svc, u.revision(), u.instances(),
        ServiceSnapshot.effectiveThreshold(u.info().getProtectThreshold()), RuleSet.of(u.info().getRules()));
  }

  /**
   * Every instance of a service, healthy or not, sorted by id. The first call for a service
   * subscribes and waits (up to the request timeout) for its list; later calls read the local
   * cache, which the subscription keeps current. A service that does not exist yet has an empty
   * list (REST: 200 with no instances).
   *
   * @throws LodestarClientException on timeout (no list from a server nor the failover cache), or
   *     {@code not_found} when the namespace does not exist (REST: 404)
   */
  public List<Instance> getInstances(String namespace, String service) {
    return snapshot(namespace, service).instances();
  }

  /** {@link #getInstances(String, String)} in the client's namespace. */
  public List<Instance> getInstances(String service) {
    return getInstances(namespace, service);
  }

  /**
   * The healthy instances of a service, sorted by id; when the unhealthy share exceeds the
   * service's protection threshold, every instance instead (each marked by its health). See
   * {@link #getInstances} for the first call.
   */
  public List<Instance> getHealthyInstances(String namespace, String service) {
    return snapshot(namespace, service).healthyInstances();
  }

  /** {@link #getHealthyInstances(String, String)} in the client's namespace. */
  public List<Instance> getHealthyInstances(String service) {
    return getHealthyInstances(namespace, service);
  }

  /**
   * A weighted random pick among {@link #getHealthyInstances}. After the first call for a service,
   * this is two lock-free map lookups, a volatile read, a random draw and a binary search.
   *
   * @throws LodestarClientException with code {@value LodestarClientException#NO_INSTANCE} when the
   *     service has no instance to pick
   */
  /** {@link #selectOne(String, String)} in the client's namespace. */
  public Instance selectOne(String service) {
    return selectOne(namespace, service);
  }

  public Instance selectOne(String namespace, String service) {
    Instance i = snapshot(namespace, service).selectOne();
    if (i == null) {
      throw new LodestarClientException(LodestarClientException.NO_INSTANCE,
          "service " + namespace + "/" + service + " has no instance", "");
    }
    return i;
  }

  /**
   * The current {@link ServiceSnapshot} of a service (all instances, healthy-filtered list,
   * protection flag, picker). Same first-call behaviour as {@link #getInstances}.
   */
  /** {@link #snapshot(String, String)} in the client's namespace. */
  public ServiceSnapshot snapshot(String service) {
    return snapshot(namespace, service);
  }

  public ServiceSnapshot snapshot(String namespace, String service) {
    ServiceEntry e = namespace == null || service == null ? null : cache.find(namespace, service);
    if (e != null && e.pinned) {
      ServiceSnapshot s = e.snapshot;
      if (s != null) {
        return s;
      }
    }
    return awaitSnapshot(namespace, service);
  }

  private ServiceSnapshot awaitSnapshot(String namespace, String service) {
    Names.name("namespace", namespace);
    Names.name("service", service);
    checkOpen();
    ServiceEntry e = cache.getOrCreate(namespace, service);
    e.pinned = true;
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    while (true) {
      ServiceSnapshot s = e.snapshot;
      if (s != null) {
        return s;
      }
      CompletableFuture<Void> ready = e.ready;
      connection.post(() -> cache.ensureActive(e));
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new LodestarClientException(LodestarClientException.TIMEOUT, "no list for " + e + " within "
            + requestTimeout.toMillis() + " ms (status " + connection.status() + ")", "");
      }
      try {
        ready.get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException timeout) {
        // loop: the deadline check throws
      } catch (ExecutionException ee) {
        throw asClientException(ee.getCause(), "list of " + e);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new LodestarClientException(LodestarClientException.TIMEOUT, "interrupted waiting for " + e, ie);
      }
    }
  }

  /**
   * Tells a listener about a service: first its current list (once known), then each change, in
   * revision order, on the listener executor, never concurrently for this listener. Does not block.
   * Subscribing the same listener twice delivers twice.
   */
  /** {@link #subscribe(String, String, ServiceListener)} in the client's namespace. */
  public void subscribe(String service, ServiceListener listener) {
    subscribe(namespace, service, listener);
  }

  public void subscribe(String namespace, String service, ServiceListener listener) {
    Names.name("namespace", namespace);
    Names.name("service", service);
    Objects.requireNonNull(listener, "listener");
    checkOpen();
    ServiceEntry e = cache.getOrCreate(namespace, service);
    ListenerHandle h = cache.newHandle(e, listener);
    e.listeners.add(h);
    connection.post(() -> cache.attach(e, h));
  }

  /**
   * Stops a listener (one registration of it). Events already being delivered complete; no later
   * ones start. The service's subscription ends when nothing else uses it.
   */
  /** {@link #unsubscribe(String, String, ServiceListener)} in the client's namespace. */
  public void unsubscribe(String service, ServiceListener listener) {
    unsubscribe(namespace, service, listener);
  }

  public void unsubscribe(String namespace, String service, ServiceListener listener) {
    ServiceEntry e = namespace == null || service == null ? null : cache.find(namespace, service);
    if (e == null) {
      return;
    }
    for (ListenerHandle h : e.listeners) {
      if (h.listener == listener && e.listeners.remove(h)) {
        h.dispatcher.cancel();
        connection.post(() -> cache.maybeDeactivate(e));
        return;
      }
    }
  }

  // ------------------------------------------------------------------ configs

  /** The config centre: get configs and listen to their changes, over this client's stream. */
  public io.lodestar.client.config.ConfigService configs() {
    return configs;
  }

  // ------------------------------------------------------------------ status

  /** Where the connection is. A volatile read. */
  public ClientStatus status() {
    return connection.status();
  }

  /** Told about each status change, on the listener executor. */
  public void addStatusListener(StatusListener listener) {
    connection.addStatusListener(Objects.requireNonNull(listener, "listener"));
  }

  public void removeStatusListener(StatusListener listener) {
    connection.removeStatusListener(listener);
  }

  // ------------------------------------------------------------------ closing

  /**
   * Says Goodbye (the server deregisters this client's instances at once), closes the stream and
   * the channel, writes pending failover files and stops the client's own work (the threads it runs on are shared
   * by the JVM's clients and go on). Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    CompletableFuture<ManagedChannel> channel = new CompletableFuture<>();
    try {
      control.execute(() -> {
        try {
          channel.complete(connection.shutdown());
          cache.onClosed();
          configs.onClosed();
        } catch (Throwable t) {
          channel.completeExceptionally(t);
        }
      });
      ManagedChannel ch = channel.get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (ch != null && !ch.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.log(Level.DEBUG, "channel did not terminate within {0}; forcing", CLOSE_TIMEOUT);
        ch.shutdownNow();
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      LOG.log(Level.WARNING, "Lodestar client " + clientId + ": unclean close", e);
    } finally {
      control.shutdownNow();  // this client's tasks and timers only: the threads are shared
      if (disk != null) {
        disk.close();
      }
      if (configFiles != null) {
        configFiles.close();
      }
      // listener threads are shared (or the caller's): the CLOSED status event and queued events still run
    }
  }

  // ------------------------------------------------------------------ helpers

  private void checkOpen() {
    if (closed.get()) {
      throw Connection.closedException();
    }
  }

  /** {@code what} names the request in an error; built only then (not on every call). */
  private <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f, java.util.function.Supplier<String> what) {
    long ms = requestTimeout.toMillis();
    try {
      ControlLoop.Timer timer = control.schedule(() -> f.completeExceptionally(timedOut(what, ms)),
          ms, TimeUnit.MILLISECONDS);
      f.whenComplete((ok, err) -> timer.cancel());
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      f.completeExceptionally(Connection.closedException());
    }
    return f;
  }

  private LodestarClientException timedOut(java.util.function.Supplier<String> what, long ms) {
    return new LodestarClientException(LodestarClientException.TIMEOUT,
        what.get() + ": no answer within " + ms + " ms (status " + connection.status().state() + ")", "");
  }

  /**
   * Waits for a request sent without a timer, up to the request timeout; when that runs out the
   * request fails with the timeout the timer would have given it (and is given up, as then).
   */
  private <T> T awaitWithin(CompletableFuture<T> f, java.util.function.Supplier<String> what) {
    long ms = requestTimeout.toMillis();
    try {
      return f.get(ms, TimeUnit.MILLISECONDS);
    } catch (TimeoutException timeout) {
      f.completeExceptionally(timedOut(what, ms));
      return await(f, what);  // the answer, if it came meanwhile; else the timeout
    } catch (InterruptedException | ExecutionException | CancellationException e) {
      throw waitFailed(f, e, what);
    }
  }

  private static <T> T await(CompletableFuture<T> f, java.util.function.Supplier<String> what) {
    try {
      return f.get();
    } catch (InterruptedException | ExecutionException | CancellationException e) {
      throw waitFailed(f, e, what);
    }
  }

  /** What a caller's wait for {@code f} ended with: an interrupt gives the request up. */
  private static LodestarClientException waitFailed(CompletableFuture<?> f, Exception e,
      java.util.function.Supplier<String> what) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      f.cancel(false);
      return new LodestarClientException(LodestarClientException.TIMEOUT, what.get() + ": interrupted", e);
    }
    return asClientException(e instanceof ExecutionException ? e.getCause() : e, what.get());
  }

  private static LodestarClientException asClientException(Throwable t, String what) {
    if (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof LodestarClientException lce) {
      // a fresh exception keeps the caller's stack; the cause keeps the original
      LodestarClientException copy = new LodestarClientException(lce.code(), lce.getMessage(), lce.field());
      copy.initCause(lce);
      return copy;
    }
    return new LodestarClientException(LodestarClientException.UNAVAILABLE, what + ": " + t, t);
  }


  private static String shortId(String id) {
    return id.length() <= 8 ? id : id.substring(0, 8);
  }

  private static String versionOrDev() {
    String v = LodestarClient.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  // ------------------------------------------------------------------ builder

  /**
   * Configures a client. Each setter rejects a bad value at once with an
   * {@link IllegalArgumentException} naming the field; {@link #build()} checks the required ones.
   */
  public static final class Builder {
    private List<String> servers;
    private String clientId;
    private String namespace = RegistrationSpec.DEFAULT_NAMESPACE;
    private Path cacheDir;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private Executor listenerExecutor;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private ClientTls tls;
    private String token;

    private Builder() {}

    /** TLS towards the servers (docs/security.md). Default: plaintext, for servers without TLS. */
    public Builder tls(ClientTls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      tls.credentials();  // a bad file fails here, not on every reconnect
      return this;
    }

    /** Required: the cluster's client addresses, "host:port" (IPv6 as "[addr]:port"). */
    public Builder servers(List<String> servers) {
      Names.servers("servers", servers);
      this.servers = List.copyOf(servers);
      return this;
    }

    public Builder servers(String... servers) {
      Objects.requireNonNull(servers, "servers");
      return servers(List.of(servers));
    }

    /** Stable id of this client (owner of its instances). Default: a random UUID. */
    public Builder clientId(String clientId) {
      this.clientId = Names.name("clientId", clientId);
      return this;
    }

    /**
     * The namespace of every call that names none, and of registrations whose spec names none.
     * Default {@value RegistrationSpec#DEFAULT_NAMESPACE}.
     */
    public Builder namespace(String namespace) {
      this.namespace = Names.name("namespace", namespace);
      return this;
    }

    /** Directory for the failover cache (created if missing). Default: none. */
    public Builder cacheDir(Path cacheDir) {
      if (cacheDir == null) {
        throw new IllegalArgumentException("cacheDir must not be null");
      }
      this.cacheDir = cacheDir;
      return this;
    }

    /** Limit for a TCP connect (itself at most 3 s) plus the server's Welcome. Default 10 s. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive("connectTimeout", connectTimeout);
      return this;
    }

    /** Limit for register, deregister and the first list of a service. Default 5 s. */
    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = positive("requestTimeout", requestTimeout);
      return this;
    }

    /**
     * Reconnect delays: initial, doubling up to max, each drawn from the upper half of its step
     * (never above max). Default 100 ms to 2 s.
     */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      positive("reconnectBackoff.initial", initial);
      positive("reconnectBackoff.max", max);
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("reconnectBackoff.max must be >= reconnectBackoff.initial");
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * Where listeners run. Default: a few daemon threads shared by every client of the JVM (each
     * listener still gets its events in order, one at a time); give a client its own executor if
     * its listeners block for long.
     */
    public Builder listenerExecutor(Executor listenerExecutor) {
      if (listenerExecutor == null) {
        throw new IllegalArgumentException("listenerExecutor must not be null");
      }
      this.listenerExecutor = listenerExecutor;
      return this;
    }

    /**
     * The API token of a server started with {@code --auth} (docs/security.md). It is sent as
     * call credentials on the stream: on every connect and reconnect, so with every request and
     * heartbeat. Null or empty: no token.
     */
    public Builder token(String token) {
      this.token = token == null || token.isBlank() ? null : token.trim();
      return this;
    }

    /** Labels sent in Hello (e.g. zone, version), for the server's routing and gray release. */
    public Builder labels(Map<String, String> labels) {
      Names.metadata("labels", labels);
      this.labels.clear();
      this.labels.putAll(labels);
      return this;
    }

    /** Starts connecting in the background. Never fails because servers are down. */
    public LodestarClient build() {
      if (servers == null) {
        throw new IllegalArgumentException("servers is required: at least one host:port");
      }
      return new LodestarClient(this, Names.servers("servers", servers));
    }

    private static Duration positive(String field, Duration d) {
      if (d == null) {
        throw new IllegalArgumentException(field + " must not be null");
      }
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + " must be positive, got " + d);
      }
      if (d.toMillis() == 0) {
        throw new IllegalArgumentException(field + " must be at least 1 ms, got " + d);
      }
      return d;
    }
  }
}
