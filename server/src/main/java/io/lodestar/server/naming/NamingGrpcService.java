package io.lodestar.server.naming;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.Ack;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Error;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.RegisterResponse;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.Welcome;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.server.config.ConfigPushHub;
import io.lodestar.server.config.ConfigStreams;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import io.lodestar.server.storage.CommandLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SDK's stream: one per client, carrying its registrations, heartbeats and subscriptions, and
 * the pushes back. Instances registered on a stream are owned by its client id: the stream's
 * heartbeat renews them all; a clean close (Goodbye, or the client completing the stream)
 * deregisters them at once; a broken stream leaves them to their TTL.
 */
public final class NamingGrpcService extends NamingGrpc.NamingImplBase {
  static final int HEARTBEAT_INTERVAL_MS = 3000;
  /** Every this many heartbeats, a stream checks each of its leases (else one write renews all). */
  static final int FULL_CHECK_EVERY = 10;
  /** A gap between heartbeats this long means the client paused: check every lease at once. */
  static final long SILENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(2L * HEARTBEAT_INTERVAL_MS);
  private static final Logger log = LoggerFactory.getLogger(NamingGrpcService.class);

  private final CommandLog commandLog;
  private final HealthChecker health;
  private final PushHub hub;
  private final ConfigPushHub configHub;
  private final java.util.function.Supplier<String> serverId;
  private final java.util.function.Supplier<List<String>> members;
  private final java.util.Set<Connection> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connected = new AtomicInteger();
  private final Counter registrations;

  public NamingGrpcService(CommandLog commandLog, HealthChecker health, PushHub hub, ConfigPushHub configHub,
      java.util.function.Supplier<String> serverId, java.util.function.Supplier<List<String>> members,
      MeterRegistry meters) {
    this.commandLog = commandLog;
    this.health = health;
    this.hub = hub;
    this.configHub = configHub;
    this.serverId = serverId;
    this.members = members;
    meters.gauge("lodestar.clients.connected", connected);
    this.registrations = Counter.builder("lodestar.registrations").tag("api", "grpc")
        .description("instance registrations accepted").register(meters);
  }

  /** Where cluster quota reports go (governance); none: reports are ignored. */
  public interface QuotaHandler {
    io.lodestar.api.v1.QuotaGrant report(String clientId, io.lodestar.api.v1.QuotaReport report);

    void forget(String clientId);
  }

  private volatile QuotaHandler quota;

  public void setQuotaHandler(QuotaHandler quota) {
    this.quota = quota;
  }

  public int connectedClients() {
    return connected.get();
  }

  @Override
  public StreamObserver<ClientMessage> connect(StreamObserver<ServerMessage> responseObserver) {
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    String address = ctx == null ? "" : ctx.clientAddress().getHostAddress();
    Connection c = new Connection((ServerCallStreamObserver<ServerMessage>) responseObserver, address);
    connected.incrementAndGet();
    open.add(c);
    return c;
  }

  /**
   * Ends every stream with UNAVAILABLE so that SDKs fail over to another node at once instead of
   * waiting out the graceful-shutdown period. Their instances stay, on their TTL, for them to
   * re-assert elsewhere.
   */
  public void shutdown() {
    for (Connection c : open) {
      c.abort(io.grpc.Status.UNAVAILABLE.withDescription("server shutting down"));
    }
  }

  private final class Connection implements StreamObserver<ClientMessage>, PushHub.Target, ConfigPushHub.Subscriber {
    private final ServerCallStreamObserver<ServerMessage> out;
    // instances this stream registered, with what it asked for, so that it can re-assert them
    private final Map<InstanceKey, Instance> owned = new ConcurrentHashMap<>();
    private final HealthChecker.KeepAlive keepAlive = health.newKeepAlive();
    private int heartbeats; // the stream's inbound messages arrive one at a time
    // the shortest TTL this stream registered: a silence that long may have let a lease lapse
    private volatile long shortestTtlNanos = Long.MAX_VALUE;
    private final String address;
    private volatile String clientId;
    private volatile Map<String, String> labels = Map.of();
    private boolean closed; // guarded by this

    Connection(ServerCallStreamObserver<ServerMessage> out, String address) {
      this.out = out;
      this.address = address;
      out.setOnReadyHandler(() -> {
        hub.onReady(this);
        configHub.onReady(this);
      });
      out.setOnCancelHandler(this::broken);
    }

    @Override
    public String clientId() {
      return clientId;
    }

    @Override
    public String address() {
      return address;
    }

    @Override
    public Map<String, String> labels() {
      return labels;
    }

    @Override
    public boolean isReady() {
      return out.isReady();
    }

    @Override
    public synchronized void send(ServerMessage message) {
      if (!closed) {
        try {
          out.onNext(message);
        } catch (RuntimeException e) {
          closed = true; // cancelled under us; the cancel handler cleans up
        }
      }
    }

    @Override
    public void onNext(ClientMessage m) {
      long rid = m.getRequestId();
      try {
        if (clientId == null && m.getBodyCase() != ClientMessage.BodyCase.HELLO) {
          throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
              "the first message of a stream must be hello", "hello");
        }
        switch (m.getBodyCase()) {
          case HELLO -> hello(rid, m);
          case REGISTER -> register(rid, m);
          case DEREGISTER -> deregister(rid, m);
          case HEARTBEAT -> heartbeat();
          case SUBSCRIBE -> {
            var s = m.getSubscribe();
            Validation.name("namespace", s.getNamespace());
            Validation.name("service", s.getService());
            hub.subscribe(this, new ServiceKey(s.getNamespace(), s.getService()), s.getKnownRevision());
          }
          case UNSUBSCRIBE -> hub.unsubscribe(this,
              new ServiceKey(m.getUnsubscribe().getNamespace(), m.getUnsubscribe().getService()));
          case GOODBYE -> goodbye();
          case FETCH -> fetch(rid, m);
          case CONFIG_SUBSCRIBE, CONFIG_UNSUBSCRIBE -> ConfigStreams.handle(configHub, this, m);
          case QUOTA_REPORT -> {
            QuotaHandler q = quota;
            if (q != null) {
              send(ServerMessage.newBuilder().setRequestId(rid).setQuotaGrant(q.report(clientId, m.getQuotaReport()))
                  .build());
            }
          }
          default -> throw LodestarException.invalid("body", "unknown message " + m.getBodyCase());
        }
      } catch (LodestarException e) {
        sendError(rid, e);
      }
    }

    private void hello(long rid, ClientMessage m) {
      String id = m.getHello().getClientId();
      Validation.name("clientId", id);
      labels = Map.copyOf(m.getHello().getLabelsMap());
      clientId = id;
      send(ServerMessage.newBuilder().setRequestId(rid).setWelcome(Welcome.newBuilder().setServerId(serverId.get())
          .setHeartbeatIntervalMs(HEARTBEAT_INTERVAL_MS).addAllMembers(members.get())).build());
      log.debug("Client {} connected", id);
    }

    private void register(long rid, ClientMessage m) {
      var r = m.getRegister();
      Instance.Builder b = r.getInstance().toBuilder();
      if (b.getNamespace().isEmpty()) {
        b.setNamespace(r.getNamespace().isEmpty() ? "default" : r.getNamespace());
      }
      if (b.getService().isEmpty()) {
        b.setService(r.getService());
      }
      if (b.getId().isEmpty()) {
        Validation.host(b.getHost());
        Validation.port(b.getPort());
        b.setId(InstanceJson.defaultId(b.getHost(), b.getPort()));
      }
      b.setEphemeral(true).setOwner(clientId).setLeaseHolder(health.localId()).clearRevision().clearHealth().clearRegisteredAtMs().clearCheck();
      Instance spec = b.build();
      submitRegistration(spec).whenComplete((stored, err) -> {
        if (err != null) {
          sendError(rid, err);
        } else {
          send(ServerMessage.newBuilder().setRequestId(rid)
              .setRegistered(RegisterResponse.newBuilder().setInstance(stored)).build());
        }
      });
    }

    private java.util.concurrent.CompletableFuture<Instance> submitRegistration(Instance spec) {
      return commandLog.submit(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder()
          .setInstance(spec)).build()).thenApply(res -> {
            InstanceKey key = InstanceKey.of(spec);
            owned.put(key, spec);
            shortestTtlNanos = Math.min(shortestTtlNanos, TimeUnit.SECONDS.toNanos(res.getInstance().getTtlSeconds()));
            health.bind(key, keepAlive);
            registrations.increment();
            return res.getInstance();
          });
    }

    private void deregister(long rid, ClientMessage m) {
      var d = m.getDeregister();
      String ns = d.getNamespace().isEmpty() ? "default" : d.getNamespace();
      owned.remove(new InstanceKey(new ServiceKey(ns, d.getService()), d.getInstanceId()));
      commandLog.submit(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder()
          .setNamespace(ns).setService(d.getService()).setId(d.getInstanceId())).build())
          .whenComplete((res, err) -> {
            if (err != null) {
              sendError(rid, err);
            } else {
              send(ServerMessage.newBuilder().setRequestId(rid).setAck(Ack.getDefaultInstance()).build());
            }
          });
    }

    private void fetch(long rid, ClientMessage m) {
      var f = m.getFetch();
      String ns = f.getNamespace().isEmpty() ? "default" : f.getNamespace();
      Validation.name("service", f.getService());
      send(ServerMessage.newBuilder().setRequestId(rid).setFetched(hub.fetch(new ServiceKey(ns, f.getService())))
          .build());
    }

    private void heartbeat() {
      long sincePrevious = keepAlive.touch(); // renews every lease bound to this stream
      // Every lease is checked one by one only now and then, or at once after a silence long
      // enough for one to have lapsed (a long pause): a lapsed or moved lease is re-asserted.
      if (++heartbeats % FULL_CHECK_EVERY != 0 && sincePrevious < Math.min(SILENCE_NANOS, shortestTtlNanos)) {
        return;
      }
      for (Map.Entry<InstanceKey, Instance> e : owned.entrySet()) {
        if (!health.bind(e.getKey(), keepAlive)) {
          // Expired while the client was alive but silent (a long pause): re-assert it.
          log.info("Re-registering {}/{} for client {} after its lease lapsed", e.getKey().service(),
              e.getKey().id(), clientId);
          submitRegistration(e.getValue());
        }
      }
    }

    private void goodbye() {
      owned.clear();
      commandLog.submit(Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder().setOwner(clientId))
          .build());
    }

    private void sendError(long rid, Throwable t) {
      Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
      Error.Builder e = Error.newBuilder();
      if (c instanceof LodestarException le) {
        e.setCode(le.codeName()).setMessage(le.getMessage());
        if (le.field() != null) {
          e.setField(le.field());
        }
      } else {
        log.warn("Stream request failed", c);
        e.setCode("internal").setMessage(String.valueOf(c.getMessage()));
      }
      send(ServerMessage.newBuilder().setRequestId(rid).setError(e).build());
    }

    @Override
    public void onError(Throwable t) {
      broken();
    }

    private void broken() {
      if (markClosed()) {
        hub.remove(this);
        configHub.remove(this);
        forgetQuota();
        log.debug("Client {} stream broken; its instances now run on their TTL", clientId);
      }
    }

    @Override
    public void onCompleted() {
      if (clientId != null && !owned.isEmpty()) {
        goodbye(); // completing the stream is a clean close
      }
      if (markClosed()) {
        hub.remove(this);
        configHub.remove(this);
        forgetQuota();
        try {
          out.onCompleted();
        } catch (RuntimeException ignored) {
          // already cancelled
        }
      }
    }

    private void forgetQuota() {
      QuotaHandler q = quota;
      if (q != null && clientId != null) {
        q.forget(clientId);
      }
    }

    void abort(io.grpc.Status status) {
      if (markClosed()) {
        hub.remove(this);
        configHub.remove(this);
        forgetQuota();
        synchronized (this) {
          try {
            out.onError(status.asRuntimeException());
          } catch (RuntimeException ignored) {
            // already cancelled
          }
        }
      }
    }

    private synchronized boolean markClosed() {
      if (closed) {
        return false;
      }
      closed = true;
      connected.decrementAndGet();
      open.remove(this);
      return true;
    }
  }
}
