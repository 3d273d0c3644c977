package io.lodestar.client;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.ConfigSubscribe;
import io.lodestar.api.v1.DeregisterRequest;
import io.lodestar.api.v1.Goodbye;
import io.lodestar.api.v1.Heartbeat;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.RegisterRequest;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.SubscribeRequest;
import io.lodestar.api.v1.UnsubscribeRequest;
import io.lodestar.api.v1.Welcome;
import io.lodestar.client.Names.ServerAddress;
import io.lodestar.client.internal.Instances;
import io.lodestar.client.internal.Logs;
import io.lodestar.client.internal.SnapshotDecoder;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client's one stream to a Lodestar server: connecting, failing over, heartbeats, requests
 * and the registrations to restore after a reconnect.
 *
 * <p>Concurrency: every mutable field is owned by one serial queue, the control thread (a
 * {@link ControlLoop}: one task at a time, in order, on a pool the JVM's clients share). gRPC callbacks (which arrive on Netty threads) and caller requests only post tasks to
 * it, so no lock is needed and messages go out in one order. Callbacks carry the {@link Session}
 * they belong to; one from a session that is no longer current is ignored, so a late error from an
 * old stream can never tear down a new one. {@link #status} is the one field read elsewhere; it is
 * replaced, never mutated.
 *
 * <p>The one exception is a fetch on a ready stream ({@link #fetchDirect}): the caller's thread
 * sends it and the event loop that decoded the answer completes it, without two hops through the
 * control thread (W4, uncached reads: the hops and a timer per call were a third of a reader's
 * CPU). Such a fetch lives in {@link #direct} (concurrent); sends on a session hold the session's
 * lock, and a session that ends hands its unanswered direct fetches to the queued path.
 *
 * <p>Lifecycle: {@code connect} opens a channel and stream to the next server in the list and
 * sends Hello. The Welcome makes the session ready: heartbeats start, registrations are sent again
 * (same ids), queued requests go out, and the {@link ServiceCache} resubscribes. Losing the stream
 * (error, server completion, no Welcome within the connect timeout) ends the session and schedules
 * the next attempt, on the next server, after an exponential backoff with jitter. Requests that
 * must survive (register, deregister) stay queued across sessions until answered or abandoned by
 * their caller.
 */
final class Connection {
  private static final System.Logger LOG = Logs.get(LodestarClient.class.getName());
  /** Used when the Welcome gives no heartbeat interval. */
  static final long DEFAULT_HEARTBEAT_MILLIS = 3_000;
  /** The shortest heartbeat a short TTL asks for: a TTL of 1 s gets one every 333 ms. */
  static final long MIN_HEARTBEAT_MILLIS = 200;
  private static final ClientMessage HEARTBEAT =
      ClientMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build();
  static final int MAX_INBOUND_MESSAGE_BYTES = 64 << 20;
  /**
   * Re-registrations in flight at once after a reconnect: the next goes out as one is answered, so
   * a client holding many instances re-asserts them at the server's pace, not in one burst that
   * fills its write queue (issue 11's retry storm).
   */
  static final int REASSERT_WINDOW = 64;
  static final Duration WRITE_RETRY_INITIAL = Duration.ofMillis(100);
  static final Duration WRITE_RETRY_MAX = Duration.ofSeconds(5);

  /** The seed list, then every cluster member a Welcome names (control thread only after start). */
  private final List<ServerAddress> servers;
  private final String clientId;
  private final Map<String, String> labels;
  /** The TCP part of a connect: an address that does not answer is left for the next one soon. */
  static final Duration TCP_CONNECT_LIMIT = Duration.ofSeconds(3);

  private final Duration connectTimeout;
  private final Backoff backoff;
  private final ControlLoop control;
  private final Executor listenerExecutor;
  private ServiceCache cache;
  private ConfigCache configCache;

  // ---- control thread only
  private Session session;
  // the shortest TTL of the ephemeral instances registered here, in ms; a third of it is the longest
  // heartbeat that renews them in time, whatever the server's interval (control thread)
  private long shortestTtlMillis = Long.MAX_VALUE;
  private int nextServer;
  private int failuresSinceReady;
  private boolean closed;
  private long nextRequestId = 1;
  private ControlLoop.Timer reconnectTimer;
  private final LinkedHashMap<Long, Pending> pending = new LinkedHashMap<>();
  /** What to register again after a reconnect, by namespace/service/id. */
  private final LinkedHashMap<InstanceKey, Instance> registrations = new LinkedHashMap<>();
  /** Of {@link #registrations}, those not yet re-asserted on this session, in order. */
  private final java.util.LinkedHashSet<InstanceKey> toReassert = new java.util.LinkedHashSet<>();
  private int reassertInFlight;
  private ControlLoop.Timer reassertTimer;
  /** Writes the server refused for now (busy): full jitter, reset by any write it takes. */
  private final Backoff writeBackoff = Backoff.fullJitter(WRITE_RETRY_INITIAL, WRITE_RETRY_MAX);
  private final RetryLog retryLog;

  /** The API token as call credentials on every stream, or null (a server without --auth). */
  private final TokenCredentials token;

  // ---- any thread
  private volatile ClientStatus status;
  /** The ready session a caller may send a fetch on directly, or null; set and cleared by the control thread. */
  private volatile Session directSession;
  /** Fetches sent directly (or re-queued after their session ended), by request id, until answered or timed out. */
  private final java.util.concurrent.ConcurrentHashMap<Long, DirectFetch> direct =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Direct fetch ids: their own range, so that they never meet the control thread's ids. */
  private final java.util.concurrent.atomic.AtomicLong directIds = new java.util.concurrent.atomic.AtomicLong(DIRECT_IDS);
  static final long DIRECT_IDS = 1L << 62;
  /** Whether the deadline sweep of {@link #direct} is armed: only while fetches are in flight. */
  private final java.util.concurrent.atomic.AtomicBoolean sweeping = new java.util.concurrent.atomic.AtomicBoolean();
  private final CopyOnWriteArrayList<StatusHandle> statusListeners = new CopyOnWriteArrayList<>();

  Connection(List<ServerAddress> servers, String clientId, Map<String, String> labels, Duration connectTimeout,
      Backoff backoff, ControlLoop control, Executor listenerExecutor, String token) {
    this.token = token == null ? null : new TokenCredentials(token);
    this.servers = new ArrayList<>(servers);
    this.clientId = clientId;
    this.labels = Map.copyOf(labels);
    this.connectTimeout = connectTimeout;
    this.backoff = backoff;
    this.control = control;
    this.listenerExecutor = listenerExecutor;
    this.retryLog = new RetryLog(clientId);
    this.status = new ClientStatus(ClientStatus.State.CONNECTING, "", Instant.now(), "");
    // start from a random server so that a fleet spreads over the cluster
    this.nextServer = servers.size() == 1 ? 0 : java.util.concurrent.ThreadLocalRandom.current().nextInt(servers.size());
  }

  void setCache(ServiceCache cache) {
    this.cache = cache;
  }

  void setConfigCache(ConfigCache configCache) {
    this.configCache = configCache;
  }

  /** Plaintext unless TLS is set (before {@link #start}). */
  private io.grpc.ChannelCredentials credentials = io.grpc.InsecureChannelCredentials.create();
  private ClientTls tls;

  void setTls(ClientTls tls) {
    this.tls = tls;
    this.credentials = tls.credentials();
  }

  // Governance: cluster quota grants go to this handler, on the control thread.
  private volatile java.util.function.Consumer<io.lodestar.api.v1.QuotaGrant> quotaHandler;

  void setQuotaHandler(java.util.function.Consumer<io.lodestar.api.v1.QuotaGrant> handler) {
    this.quotaHandler = handler;
  }

  /** Control thread: sends a quota report if a session is up; false when there is none. */
  boolean sendQuotaReport(io.lodestar.api.v1.QuotaReport report) {
    Session s = session;
    return s != null && s.ready && !closed
        && send(s, ClientMessage.newBuilder().setQuotaReport(report).build());
  }

  boolean sendCallStats(io.lodestar.api.v1.CallStatsReport report) {
    Session s = session;
    return s != null && s.ready && !closed
        && send(s, ClientMessage.newBuilder().setCallStats(report).build());
  }

  void start() {
    post(this::connect);
  }

  /** Runs a task on the control thread; dropped once the client is closed. */
  void post(Runnable task) {
    try {
      control.execute(task);
    } catch (RejectedExecutionException closedAlready) {
      // closed: nothing to do any more
    }
  }

  /**
   * Runs a control task on the calling thread when the control loop is idle, else queues it
   * ({@link ControlLoop#runHereOrExecute}: the same order, one task at a time). For short tasks
   * that never block: a caller's register or deregister (W1: one hand-off to a pool thread and its
   * wake-up fewer per call).
   */
  void postHere(Runnable task) {
    try {
      control.runHereOrExecute(task);
    } catch (RejectedExecutionException closedAlready) {
      // closed: nothing to do any more
    }
  }

  ClientStatus status() {
    return status;
  }

  // ------------------------------------------------------------------ status listeners

  void addStatusListener(StatusListener l) {
    StatusHandle h = new StatusHandle(l, new SerialDispatcher<>(listenerExecutor, l::onStatus, "status " + l));
    statusListeners.add(h);
  }

  void removeStatusListener(StatusListener l) {
    for (StatusHandle h : statusListeners) {
      if (h.listener == l && statusListeners.remove(h)) {
        h.dispatcher.cancel();
        return;
      }
    }
  }

  private record StatusHandle(StatusListener listener, SerialDispatcher<ClientStatus> dispatcher) {}

  /** Control thread: the server says how it is doing; logged and told to status listeners. */
  private void onServerStatus(io.lodestar.api.v1.ServerStatus s) {
    ClientStatus old = status;
    ClientStatus.ServerHealth health = new ClientStatus.ServerHealth(s.getStatus(), s.getReason(),
        s.getExpiryProtection());
    if (health.equals(old.serverHealth())) {
      return;
    }
    ClientStatus next = new ClientStatus(old.state(), old.server(), old.since(), old.detail(), health);
    status = next;
    if (health.isUp()) {
      LOG.log(Level.INFO, "Lodestar client {0}: server {1} is UP again", clientId, old.server());
    } else {
      LOG.log(Level.WARNING, "Lodestar client {0}: server {1} is {2}: {3}{4}", clientId, old.server(),
          health.status(), health.reason(), health.expiryProtection().isEmpty() ? ""
              : " (expiry protection: " + health.expiryProtection() + ")");
    }
    for (StatusHandle h : statusListeners) {
      h.dispatcher.offer(next);
    }
  }

  /** Control thread. A no-op when the state does not change; logs and notifies otherwise. */
  private void setStatus(ClientStatus.State state, String server, String detail) {
    ClientStatus old = status;
    if (old.state() == state) {
      return;
    }
    // a new stream starts from UP: its server tells it otherwise at its first heartbeat
    ClientStatus next = new ClientStatus(state, server, Instant.now(), detail,
        state == ClientStatus.State.CONNECTED ? ClientStatus.ServerHealth.UP : old.serverHealth());
    status = next;
    switch (state) {
      case CONNECTED -> LOG.log(Level.INFO, "Lodestar client {0}: {1} {2}{3}", clientId,
          old.state() == ClientStatus.State.CONNECTING ? "connected to" : "reconnected to", server,
          detail.isEmpty() ? "" : " (" + detail + ")");
      case CONNECTING -> LOG.log(Level.WARNING, "Lodestar client {0}: {1}; trying the other servers", clientId, detail);
      case DISCONNECTED_SERVING_CACHE -> LOG.log(Level.WARNING,
          "Lodestar client {0}: no server reachable (tried {1}): {2}; serving the last known lists of {3} services"
              + " and retrying in the background", clientId, servers, detail, cache == null ? 0 : cache.knownCount());
      case CLOSED -> LOG.log(Level.INFO, "Lodestar client {0}: closed", clientId);
      default -> { }
    }
    for (StatusHandle h : statusListeners) {
      h.dispatcher.offer(next);
    }
  }

  // ------------------------------------------------------------------ connecting

  private void connect() {
    reconnectTimer = null;
    if (closed || session != null) {
      return;
    }
    ServerAddress addr = servers.get(nextServer);
    nextServer = (nextServer + 1) % servers.size();
    ManagedChannel channel;
    try {
      channel = NettyChannelBuilder.forAddress(addr.host(), addr.port(), credentials)
          .directExecutor()  // callbacks post to the control thread (or apply a push then and there: Responses)
          .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS,
              (int) Math.min(connectTimeout.toMillis(), TCP_CONNECT_LIMIT.toMillis()))
          .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
          .userAgent("lodestar-java/" + LodestarClient.VERSION)
          // the stream is re-established by this class (backoff, failover, re-registration); gRPC's
          // own retry layer would only buffer and track every message sent on it, for nothing
          .disableRetry()
          .build();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cannot build a channel to " + addr, e);
      attemptFailed(addr, false, describe(e));
      return;
    }
    Session s = new Session(addr, channel);
    session = s;
    LOG.log(Level.DEBUG, "Lodestar client {0}: connecting to {1}", clientId, addr);
    try {
      // the stub's call, with fetch answers decoded straight into the SDK's instances (Inbound)
      CallOptions options = token == null ? CallOptions.DEFAULT : CallOptions.DEFAULT.withCallCredentials(token);
      ClientCallStreamObserver<ClientMessage> out = (ClientCallStreamObserver<ClientMessage>)
          ClientCalls.asyncBidiStreamingCall(channel.newCall(Inbound.CONNECT, options), new Responses(s));
      s.out = out;
      out.onNext(ClientMessage.newBuilder().setHello(Hello.newBuilder()
          .setClientId(clientId).setClientVersion(LodestarClient.VERSION).putAllLabels(labels)).build());
    } catch (RuntimeException e) {
      lost(s, describe(e));
      return;
    }
    s.welcomeTimer = control.schedule(() -> {
      if (session == s && !s.ready) {
        lost(s, "no Welcome from " + addr + " within " + connectTimeout.toMillis() + " ms");
      }
    }, connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Receives one session's stream; posts to the control thread (a push may run on it here, see onNext). */
  private final class Responses implements StreamObserver<Inbound> {
    private final Session s;

    Responses(Session s) {
      this.s = s;
    }

    @Override
    public void onNext(Inbound m) {
      if (m.requestId() >= DIRECT_IDS && answered(m)) {
        return;
      }
      ServerMessage.BodyCase body = m.message() == null ? null : m.message().getBodyCase();
      if (body == ServerMessage.BodyCase.UPDATE || body == ServerMessage.BodyCase.REGISTERED
          || body == ServerMessage.BodyCase.ACK) {
        // A push, or a register's or deregister's answer, is handled here, on the event loop that
        // decoded it, when the control loop is idle: the cache's update and the answer's bookkeeping
        // are short and never block; listeners still run on their executor, and what an answer
        // completes runs as before (registerAsync's future: on the listener executor).
        postHere(() -> handle(s, m));
      } else {
        post(() -> handle(s, m));
      }
    }

    @Override
    public void onError(Throwable t) {
      post(() -> lost(s, describe(t)));
    }

    @Override
    public void onCompleted() {
      post(() -> lost(s, "the server closed the stream"));
    }
  }

  private void handle(Session s, Inbound in) {
    if (session != s || closed) {
      return;
    }
    if (in.fetched() != null) {
      Pending p = pending.remove(in.requestId());
      if (p != null && p.onFetched != null) {
        p.onFetched.accept(in.fetched());
      }
      return;
    }
    ServerMessage m = in.message();
    switch (m.getBodyCase()) {
      case WELCOME -> onWelcome(s, m.getWelcome());
      case UPDATE -> cache.onUpdate(m.getUpdate(), in.upserts());
      case SERVER_STATUS -> onServerStatus(m.getServerStatus());
      case CONFIG_UPDATE -> configCache.onUpdate(m.getConfigUpdate());
      case REGISTERED, ACK, ERROR, FETCHED -> {
        Pending p = m.getRequestId() == 0 ? null : pending.remove(m.getRequestId());
        if (p != null && m.hasError() && refusedForNow(m.getError()) && p.resend
            && (p.future == null || !p.future.isDone())) {
          retryLater(p, m.getError());
        } else if (p != null) {
          if (!m.hasError()) {
            writeBackoff.reset();
          }
          p.onResponse.accept(m);
        } else if (m.hasError()) {
          io.lodestar.api.v1.Error e = m.getError();
          if (!s.ready) {
            lost(s, "refused: " + e.getCode() + ": " + e.getMessage());
          } else {
            LOG.log(Level.WARNING, "Lodestar client {0}: server error: {1}: {2}", clientId, e.getCode(), e.getMessage());
          }
        }
      }
      case QUOTA_GRANT -> {
        var h = quotaHandler;
        if (h != null) {
          h.accept(m.getQuotaGrant());
        }
      }
      default -> LOG.log(Level.DEBUG, "ignoring server message {0}", m.getBodyCase());
    }
  }

  private void onWelcome(Session s, Welcome w) {
    if (s.ready) {
      return;
    }
    s.ready = true;
    cancel(s.welcomeTimer);
    failuresSinceReady = 0;
    s.serverHeartbeatMillis = w.getHeartbeatIntervalMs() > 0 ? w.getHeartbeatIntervalMs() : DEFAULT_HEARTBEAT_MILLIS;
    scheduleHeartbeats(s);
    setStatus(ClientStatus.State.CONNECTED, s.server.toString(),
        w.getServerId().isEmpty() ? "" : "server " + w.getServerId());
    learnMembers(w.getMembersList());

    // 1. what was registered, same ids, paced; 2. queued requests in order; 3. subscriptions.
    toReassert.clear();
    toReassert.addAll(registrations.keySet());
    reassertInFlight = 0;
    reassert(s);
    for (Pending p : new ArrayList<>(pending.values())) {
      if (!p.sent && p.resend) {
        p.sent = send(s, p.message);
      }
    }
    cache.onConnected();
    configCache.onConnected();
    s.live = true;
    directSession = s;
  }

  /**
   * Adds the cluster members a Welcome names to the servers to fail over to. Members are only
   * added, never dropped: a seed stays a seed, and a member that left simply fails to connect.
   */
  private void learnMembers(List<String> members) {
    for (String m : members) {
      ServerAddress a;
      try {
        a = Names.server("member", m);
      } catch (IllegalArgumentException e) {
        continue;
      }
      if (a.host().equals("0.0.0.0") || a.host().equals("::")) {
        continue; // a wildcard bind address names no one host
      }
      if (!servers.contains(a)) {
        servers.add(a);
        LOG.log(Level.DEBUG, "Lodestar client {0}: learned cluster member {1}", clientId, a);
      }
    }
  }

  /** Control thread. Ends the session if it is current, and schedules the next attempt. */
  private void lost(Session s, String cause) {
    if (session != s) {
      return;
    }
    session = null;
    stopDirect(s);
    end(s, true);
    boolean wasReady = s.ready;
    cancel(reassertTimer);
    reassertTimer = null;
    toReassert.clear();
    reassertInFlight = 0;
    for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (!p.resend || (p.future != null && p.future.isDone())) {
        it.remove();  // session-bound (re-sent by their owner) or abandoned by the caller
      } else {
        p.sent = false;
      }
    }
    if (closed) {
      return;
    }
    if (wasReady) {
      LOG.log(Level.DEBUG, "Lodestar client {0}: stream to {1} ended: {2}", clientId, s.server, cause);
    }
    attemptFailed(s.server, wasReady, cause);
  }

  private void attemptFailed(ServerAddress addr, boolean wasReady, String cause) {
    failuresSinceReady = wasReady ? 1 : failuresSinceReady + 1;
    if (failuresSinceReady >= servers.size()) {
      setStatus(ClientStatus.State.DISCONNECTED_SERVING_CACHE, addr.toString(), cause);
    } else if (wasReady) {
      setStatus(ClientStatus.State.CONNECTING, addr.toString(), "lost " + addr + ": " + cause);
    }
    cache.onTrouble();
    configCache.onTrouble();
    long delay = backoff.nextDelayMillis();
    LOG.log(Level.DEBUG, "Lodestar client {0}: attempt on {1} failed ({2}); next attempt in {3} ms", clientId, addr,
        cause, delay);
    reconnectTimer = control.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  /**
   * Control thread. Re-registers what this client holds on a new session, {@link #REASSERT_WINDOW}
   * at a time; each answer lets the next one go. A registration the server refuses for now goes
   * back in line and the whole re-assertion pauses for a backoff (full jitter, at least the
   * server's hint). Once everything is re-asserted the session counts as a success, and only then
   * is the reconnect backoff reset: a stream that breaks again while re-asserting reconnects ever
   * more slowly instead of re-sending everything at once, again and again.
   */
  private void reassert(Session s) {
    reassertTimer = null;
    if (session != s || closed) {
      return;
    }
    for (java.util.Iterator<InstanceKey> it = toReassert.iterator();
        reassertInFlight < REASSERT_WINDOW && it.hasNext(); ) {
      InstanceKey key = it.next();
      it.remove();
      Instance i = registrations.get(key);
      if (i == null) {
        continue; // deregistered meanwhile
      }
      long id = nextRequestId++;
      reassertInFlight++;
      pending.put(id, new Pending(id, registerMessage(id, i), false, m -> reasserted(s, key, i, m), null));
      send(s, pending.get(id).message);
    }
    if (reassertInFlight == 0 && toReassert.isEmpty() && !s.restored) {
      s.restored = true;
      backoff.reset();
    }
  }

  private void reasserted(Session s, InstanceKey key, Instance i, ServerMessage m) {
    reassertInFlight--;
    if (m.hasError()) {
      io.lodestar.api.v1.Error e = m.getError();
      if (refusedForNow(e) || e.getErrorCode() == io.lodestar.api.v1.ErrorCode.UNAVAILABLE) {
        if (registrations.get(key) == i) {
          toReassert.add(key); // again, after the pause
        }
        if (reassertTimer == null) {
          long delay = e.getRetryAfterMs() + writeBackoff.nextDelayMillis();
          retryLog.retried("re-registration", e.getMessage(), delay);
          reassertTimer = control.schedule(() -> reassert(s), delay, TimeUnit.MILLISECONDS);
        }
        return;
      }
      LOG.log(Level.WARNING, "Lodestar client {0}: re-registering {1}/{2}/{3} failed: {4}: {5}", clientId,
          i.getNamespace(), i.getService(), i.getId(), e.getCode(), e.getMessage());
    } else {
      writeBackoff.reset();
    }
    if (reassertTimer == null) {
      reassert(s);
    }
  }

  /** The server refused the request without carrying it out and said when to try again. */
  private static boolean refusedForNow(io.lodestar.api.v1.Error e) {
    return e.getRetryAfterMs() > 0;
  }

  /**
   * Control thread. Sends a refused request again after a backoff (full jitter, at least the
   * server's hint), on whatever session is ready then; one that breaks meanwhile re-sends it on
   * the next. The caller's own timeout still bounds it.
   */
  private void retryLater(Pending p, io.lodestar.api.v1.Error e) {
    pending.put(p.id, p);
    p.sent = false;
    long delay = e.getRetryAfterMs() + writeBackoff.nextDelayMillis();
    retryLog.retried(p.message.getBodyCase().name().toLowerCase(java.util.Locale.ROOT), e.getMessage(), delay);
    control.schedule(() -> {
      if (pending.get(p.id) == p && !p.sent && !closed && isReady()
          && (p.future == null || !p.future.isDone())) {
        p.sent = send(session, p.message);
      }
    }, delay, TimeUnit.MILLISECONDS);
  }

  /** True once an attempt failed and no stream is ready: callers should fall back to the cache. */
  boolean inTrouble() {
    return failuresSinceReady > 0 && !isReady();
  }

  /**
   * (Re)arms the session's heartbeat: the server's interval, or a third of the shortest TTL
   * registered here when that is shorter, so that a TTL below the interval does not lapse between
   * two heartbeats (the server accepts any TTL from 1 s, and asks every stream for the same interval).
   */
  private void scheduleHeartbeats(Session s) {
    cancel(s.heartbeatTimer);
    long period = Math.min(s.serverHeartbeatMillis, Math.max(MIN_HEARTBEAT_MILLIS, shortestTtlMillis / 3));
    s.heartbeatMillis = period;
    s.heartbeatTimer = control.scheduleAtFixedRate(() -> {
      if (session == s) {
        send(s, HEARTBEAT);
      }
    }, period, period, TimeUnit.MILLISECONDS);
  }

  /** Notes an ephemeral instance's TTL; heartbeats come sooner if it needs them to. */
  private void heldWithTtl(long ttlSeconds) {
    long ttl = TimeUnit.SECONDS.toMillis(ttlSeconds);
    if (ttl <= 0 || ttl >= shortestTtlMillis) {
      return;
    }
    shortestTtlMillis = ttl;
    Session s = session;
    if (s != null && s.ready && Math.max(MIN_HEARTBEAT_MILLIS, ttl / 3) < s.heartbeatMillis) {
      scheduleHeartbeats(s);
    }
  }

  boolean isReady() {
    return session != null && session.ready;
  }

  private void end(Session s, boolean abort) {
    cancel(s.welcomeTimer);
    cancel(s.heartbeatTimer);
    if (abort) {
      if (s.out != null) {
        try {
          synchronized (s) {
            s.out.cancel("lodestar client: session ended", null);
          }
        } catch (RuntimeException ignored) {
          // already closed
        }
      }
      s.channel.shutdownNow();
    }
  }

  private static void cancel(ControlLoop.Timer f) {
    if (f != null) {
      f.cancel();
    }
  }

  /** Sends on the session; a failure ends it (later, not re-entrantly). */
  private boolean send(Session s, ClientMessage m) {
    try {
      synchronized (s) {  // callers' direct fetches send on it too
        s.out.onNext(m);
      }
      return true;
    } catch (RuntimeException e) {
      post(() -> lost(s, describe(e)));
      return false;
    }
  }

  // ------------------------------------------------------------------ requests (control thread)

  /**
   * Registers: queued until a session is ready, survives reconnects, and once answered is
   * remembered for re-registration. If the caller gave up (timeout or cancel) before the answer, a
   * success is undone with a deregister, so nothing stays registered that the caller thinks failed.
   */
  void register(Instance instance, CompletableFuture<Instance> result) {
    if (closed) {
      result.completeExceptionally(closedException());
      return;
    }
    // this registration asserts its instance itself: an older spec re-asserted after it would undo it
    toReassert.remove(new InstanceKey(instance.getNamespace(), instance.getService(),
        instance.getId().isEmpty() ? instance.getHost() + ":" + instance.getPort() : instance.getId()));
    long id = nextRequestId++;
    Pending p = new Pending(id, registerMessage(id, instance), true, m -> {
      if (m.hasError()) {
        result.completeExceptionally(toException(m.getError()));
        return;
      }
      Instance got = m.getRegistered().getInstance();
      InstanceKey key = new InstanceKey(got.getNamespace().isEmpty() ? instance.getNamespace() : got.getNamespace(),
          got.getService().isEmpty() ? instance.getService() : got.getService(), got.getId());
      if (result.complete(got)) {
        if (instance.getEphemeral()) {  // a persistent one stays on the server without us
          // the spec as sent, to send again after a reconnect; copied only when the server chose the id
          registrations.put(key, instance.getId().equals(got.getId()) ? instance
              : instance.toBuilder().setId(got.getId()).build());
          heldWithTtl(got.getTtlSeconds() > 0 ? got.getTtlSeconds() : instance.getTtlSeconds());
        }
      } else if (!registrations.containsKey(key)) {
        LOG.log(Level.INFO, "Lodestar client {0}: registration of {1} answered after its caller gave up; undoing it",
            clientId, key);
        fireAndForget(deregisterMessage(0, key));
      }
    }, result);
    enqueue(p);
    result.whenComplete((ok, err) -> {
      if (err != null) {
        post(() -> dropUnsent(p));
      }
    });
  }

  void deregister(InstanceKey key, CompletableFuture<Void> result) {
    if (closed) {
      result.completeExceptionally(closedException());
      return;
    }
    registrations.remove(key);  // whatever happens, do not re-register it
    long id = nextRequestId++;
    Pending p = new Pending(id, deregisterMessage(id, key), true, m -> {
      if (m.hasError()) {
        result.completeExceptionally(toException(m.getError()));
      } else {
        result.complete(null);
      }
    }, result);
    enqueue(p);
    result.whenComplete((ok, err) -> {
      if (err != null) {
        post(() -> dropUnsent(p));
      }
    });
  }

  /** Reads a service once, outside the cache; re-sent on the next stream if this one breaks. */
  void fetch(String namespace, String service, CompletableFuture<SnapshotDecoder.Snapshot> result) {
    if (closed) {
      result.completeExceptionally(closedException());
      return;
    }
    long id = nextRequestId++;
    ClientMessage m = ClientMessage.newBuilder().setRequestId(id).setFetch(io.lodestar.api.v1.FetchRequest.newBuilder()
        .setNamespace(namespace).setService(service)).build();
    Pending p = new Pending(id, m, true, r -> {
      if (r.hasError()) {
        result.completeExceptionally(toException(r.getError()));
      } else {  // an answer Inbound left to protobuf (more in it than a request id and a snapshot)
        result.complete(new SnapshotDecoder.Snapshot(r.getFetched().getRevision(),
            Instances.fromProto(r.getFetched().getInstancesList()), r.getFetched().getInfo()));
      }
    }, result);
    p.onFetched = result::complete;
    enqueue(p);
    result.whenComplete((ok, err) -> {
      if (err != null) {
        post(() -> pending.remove(p.id));
      }
    });
  }

  /**
   * A fetch sent from the caller's thread on the ready stream, answered on the event loop (class
   * comment). When no stream is ready it goes the queued way, {@link #fetch}. Either way it is
   * kept in {@link #direct} until answered, and fails with a timeout once {@code timeout} has
   * passed (one sweep per client while fetches are in flight, not a timer per call).
   */
  void fetchDirect(String namespace, String service, CompletableFuture<SnapshotDecoder.Snapshot> result,
      Duration timeout) {
    long id = directIds.getAndIncrement();
    DirectFetch f = new DirectFetch(id, namespace, service, result, System.nanoTime() + timeout.toNanos(), timeout,
        false);
    direct.put(id, f);
    armSweep(timeout);
    Session s = directSession;
    if (s != null) {
      ClientMessage m = ClientMessage.newBuilder().setRequestId(id).setFetch(io.lodestar.api.v1.FetchRequest
          .newBuilder().setNamespace(namespace).setService(service)).build();
      synchronized (s) {
        if (s.live) {
          try {
            s.out.onNext(m);
            return;
          } catch (RuntimeException e) {
            // the stream broke under us: the queued way below, and the control thread finds out
          }
        }
      }
    }
    if (direct.remove(id) != null) {  // else stopDirect took it and queued it already
      requeue(f, 0);
    }
  }

  /**
   * Any thread: the fetch goes the control thread's way (queued until a stream is ready, sent
   * again on the next if this one breaks), after {@code delayMs}; still kept in {@link #direct}
   * for its deadline, marked queued.
   */
  private void requeue(DirectFetch f, long delayMs) {
    DirectFetch q = new DirectFetch(f.id, f.namespace, f.service, f.result, f.deadlineNanos, f.timeout, true);
    direct.put(q.id, q);
    Runnable send = () -> {
      if (!q.result.isDone()) {
        fetch(q.namespace, q.service, q.result);
      }
    };
    try {
      if (delayMs <= 0) {
        control.execute(send);
      } else {
        control.schedule(send, delayMs, TimeUnit.MILLISECONDS);
      }
    } catch (RejectedExecutionException closing) {  // the client closed meanwhile
      direct.remove(q.id, q);
      q.result.completeExceptionally(closedException());
    }
  }

  /** Event loop: completes a direct fetch's answer; false when it is not one (the control thread's then). */
  private boolean answered(Inbound in) {
    if (in.fetched() != null) {
      DirectFetch f = direct.remove(in.requestId());
      if (f != null) {
        f.result.complete(in.fetched());
      }
      return true;
    }
    ServerMessage m = in.message();
    if (!m.hasError() && !m.hasFetched()) {
      return false;
    }
    DirectFetch f = direct.remove(in.requestId());
    if (f == null) {
      return true;  // answered or given up already
    }
    if (m.hasFetched()) {  // an answer Inbound left to protobuf (more in it than a request id and a snapshot)
      f.result.complete(new SnapshotDecoder.Snapshot(m.getFetched().getRevision(),
          Instances.fromProto(m.getFetched().getInstancesList()), m.getFetched().getInfo()));
      return true;
    }
    io.lodestar.api.v1.Error e = m.getError();
    if (refusedForNow(e)) {  // busy: again after the server's hint and a backoff, as any refused request
      direct.put(f.id, f);  // still timed; the backoff is the control thread's
      post(() -> {
        if (direct.remove(f.id, f)) {
          long delay = e.getRetryAfterMs() + writeBackoff.nextDelayMillis();
          retryLog.retried("fetch", e.getMessage(), delay);
          requeue(f, delay);
        }
      });
    } else {
      f.result.completeExceptionally(toException(e));
    }
    return true;
  }

  /** Control thread: no more direct sends on the session; its unanswered direct fetches are queued. */
  private void stopDirect(Session s) {
    if (directSession == s) {
      directSession = null;
    }
    synchronized (s) {
      s.live = false;
    }
    for (DirectFetch f : direct.values()) {
      if (!f.queued && !f.result.isDone() && direct.remove(f.id, f) && !closed) {
        requeue(f, 0);
      }
    }
  }

  private void armSweep(Duration timeout) {
    if (sweeping.compareAndSet(false, true)) {
      scheduleSweep(Math.max(5, Math.min(1000, timeout.toMillis() / 8)));
    }
  }

  /** The next sweep, by one who set {@link #sweeping}. */
  private void scheduleSweep(long period) {
    try {
      control.schedule(() -> sweep(period), period, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closing) {
      sweeping.set(false);
    }
  }

  /** Control thread: fails the fetches past their deadline, forgets the answered; again while any is left. */
  private void sweep(long period) {
    long now = System.nanoTime();
    for (DirectFetch f : direct.values()) {
      if (f.result.isDone()) {
        direct.remove(f.id, f);
      } else if (now - f.deadlineNanos >= 0 && direct.remove(f.id, f)) {
        f.result.completeExceptionally(new LodestarClientException(LodestarClientException.TIMEOUT,
            "fetch " + f.namespace + "/" + f.service + ": no answer within " + f.timeout.toMillis() + " ms (status "
                + status.state() + ")", ""));
      }
    }
    sweeping.set(false);
    if (!direct.isEmpty() && !closed && sweeping.compareAndSet(false, true)) {
      scheduleSweep(period);
    }
  }

  /** A fetch tracked outside {@link #pending}: sent directly, or queued again with its deadline. */
  private record DirectFetch(long id, String namespace, String service,
      CompletableFuture<SnapshotDecoder.Snapshot> result, long deadlineNanos, Duration timeout, boolean queued) {}

  /**
   * Subscribes on the current stream. Returns the request id, to {@link #forget} once an update
   * for the service arrives (the server answers a subscription with updates, which carry no
   * request id, or with an error that does); 0 when no stream is ready (the cache resubscribes on
   * connect).
   */
  long subscribe(String namespace, String service, long knownRevision, Consumer<io.lodestar.api.v1.Error> onError) {
    if (!isReady()) {
      return 0;
    }
    long id = nextRequestId++;
    ClientMessage m = ClientMessage.newBuilder().setRequestId(id).setSubscribe(SubscribeRequest.newBuilder()
        .setNamespace(namespace).setService(service).setKnownRevision(knownRevision)).build();
    pending.put(id, new Pending(id, m, false, r -> {
      if (r.hasError()) {
        onError.accept(r.getError());
      }
    }, null));
    send(session, m);
    return id;
  }

  /** Drops a request whose answer no longer matters. */
  void forget(long requestId) {
    pending.remove(requestId);
  }

  void unsubscribe(String namespace, String service) {
    if (isReady()) {
      send(session, ClientMessage.newBuilder().setUnsubscribe(UnsubscribeRequest.newBuilder()
          .setNamespace(namespace).setService(service)).build());
    }
  }

  /** Follows a config on the current stream; the config cache resubscribes on every connect. */
  void subscribeConfig(String namespace, String group, String name, long knownVersion) {
    if (isReady()) {
      send(session, ClientMessage.newBuilder().setConfigSubscribe(ConfigSubscribe.newBuilder()
          .setNamespace(namespace).setGroup(group).setName(name).setKnownVersion(knownVersion)).build());
    }
  }

  private void enqueue(Pending p) {
    pending.put(p.id, p);
    if (isReady()) {
      p.sent = send(session, p.message);
    }
  }

  private void dropUnsent(Pending p) {
    if (!p.sent) {
      pending.remove(p.id);
    }
  }

  private void fireAndForget(ClientMessage m) {
    if (isReady()) {
      send(session, m);
    }
  }

  private static ClientMessage registerMessage(long id, Instance i) {
    return ClientMessage.newBuilder().setRequestId(id).setRegister(RegisterRequest.newBuilder()
        .setNamespace(i.getNamespace()).setService(i.getService()).setInstance(i)
        .setPersistent(!i.getEphemeral())
        // the answer without the metadata sent: the caller fills them in (LodestarClient.registerAsync)
        .setAnswerWithoutMetadata(true)).build();
  }

  private static ClientMessage deregisterMessage(long id, InstanceKey key) {
    return ClientMessage.newBuilder().setRequestId(id).setDeregister(DeregisterRequest.newBuilder()
        .setNamespace(key.namespace()).setService(key.service()).setInstanceId(key.id())).build();
  }

  static LodestarClientException toException(io.lodestar.api.v1.Error e) {
    // the enum when the server sends it; the lower-case string from an older server
    boolean typed = e.getErrorCode() != io.lodestar.api.v1.ErrorCode.ERROR_CODE_UNSPECIFIED
        && e.getErrorCode() != io.lodestar.api.v1.ErrorCode.UNRECOGNIZED;
    String code = typed ? e.getErrorCode().name().toLowerCase(java.util.Locale.ROOT) : e.getCode();
    return new LodestarClientException(code, e.getMessage(), e.getField());
  }

  static LodestarClientException closedException() {
    return new LodestarClientException(LodestarClientException.CLOSED, "the Lodestar client is closed", "");
  }

  // ------------------------------------------------------------------ closing

  /**
   * Control thread. Says Goodbye (the server deregisters our instances at once), half-closes the
   * stream and starts a graceful channel shutdown. Returns the channel to await, or null.
   */
  ManagedChannel shutdown() {
    if (closed) {
      return null;
    }
    closed = true;
    cancel(reconnectTimer);
    setStatus(ClientStatus.State.CLOSED, status.server(), "");
    LodestarClientException ex = closedException();
    for (Pending p : pending.values()) {
      if (p.future != null) {
        p.future.completeExceptionally(ex);
      }
    }
    pending.clear();
    Session s = session;
    session = null;
    if (s != null) {
      stopDirect(s);
    }
    for (DirectFetch f : direct.values()) {
      f.result.completeExceptionally(ex);
    }
    direct.clear();
    if (s == null) {
      return null;
    }
    if (s.ready) {
      end(s, false);
      try {
        synchronized (s) {
          s.out.onNext(ClientMessage.newBuilder().setGoodbye(Goodbye.getDefaultInstance()).build());
          s.out.onCompleted();
        }
      } catch (RuntimeException e) {
        LOG.log(Level.DEBUG, "Goodbye failed", e);
      }
      s.channel.shutdown();
    } else {
      end(s, true);
    }
    return s.channel;
  }

  String describe(Throwable t) {
    String tlsProblem = TlsFailures.explain(t, tls);
    if (tlsProblem != null) {
      return tlsProblem;
    }
    return describeStatus(t);
  }

  static String describeStatus(Throwable t) {
    if (t instanceof io.grpc.StatusRuntimeException sre) {
      io.grpc.Status st = sre.getStatus();
      String d = st.getDescription();
      Throwable c = st.getCause();
      return st.getCode() + (d != null ? ": " + d : "") + (c != null && c.getMessage() != null ? " (" + c.getMessage() + ")" : "");
    }
    return t.getClass().getSimpleName() + (t.getMessage() != null ? ": " + t.getMessage() : "");
  }

  // ------------------------------------------------------------------ types

  /** One stream attempt. Control thread only. */
  private static final class Session {
    final ServerAddress server;
    final ManagedChannel channel;
    ClientCallStreamObserver<ClientMessage> out;
    boolean ready;
    /** Callers may send direct fetches on it; cleared under the session's lock when it ends. */
    volatile boolean live;
    boolean restored; // everything held was re-asserted on it
    ControlLoop.Timer welcomeTimer;
    ControlLoop.Timer heartbeatTimer;
    long serverHeartbeatMillis = DEFAULT_HEARTBEAT_MILLIS; // what Welcome asked for
    long heartbeatMillis; // the period armed now

    Session(ServerAddress server, ManagedChannel channel) {
      this.server = server;
      this.channel = channel;
    }
  }

  /** A request awaiting its answer. */
  private static final class Pending {
    final long id;
    final ClientMessage message;
    final boolean resend;                     // re-send on the next session if unanswered
    final Consumer<ServerMessage> onResponse; // control thread
    final CompletableFuture<?> future;        // the caller's, if any
    boolean sent;
    Consumer<SnapshotDecoder.Snapshot> onFetched;  // a fetch's decoded answer (control thread)

    Pending(long id, ClientMessage message, boolean resend, Consumer<ServerMessage> onResponse,
        CompletableFuture<?> future) {
      this.id = id;
      this.message = message;
      this.resend = resend;
      this.onResponse = onResponse;
      this.future = future;
    }
  }

  record InstanceKey(String namespace, String service, String id) {
    @Override
    public String toString() {
      return namespace + "/" + service + "/" + id;
    }
  }
}
