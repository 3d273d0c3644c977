package io.lodestar.server.naming;

import io.lodestar.api.v1.Ack;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.RegisterResponse;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServerStatus;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.OpenSet;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.StoredInstance;
import io.lodestar.server.naming.HealthChecker.InstanceKey;
import io.lodestar.server.session.Session;
import io.lodestar.server.session.SessionHandler;
import io.lodestar.server.storage.CommandLog;
import io.lodestar.server.storage.LogStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Naming on the SDK stream: registrations, heartbeats, subscriptions, fetches. Instances
 * registered on a stream are owned by its client id: the stream's heartbeat renews them all; a
 * clean close (Goodbye, or the client completing the stream) deregisters them at once; a broken
 * stream leaves them to their TTL.
 */
public final class NamingSessionHandler implements SessionHandler {
  /** How often an SDK heartbeats (sent in the Welcome). */
  public static final int HEARTBEAT_INTERVAL_MS = 3000;
  /** Every this many heartbeats, a stream checks each of its leases (else one write renews all). */
  static final int FULL_CHECK_EVERY = 10;
  /** A gap between heartbeats this long means the client paused: check every lease at once. */
  static final long SILENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(2L * HEARTBEAT_INTERVAL_MS);
  private static final Logger log = LoggerFactory.getLogger(NamingSessionHandler.class);

  /**
   * {@code stored} without its metadata, built field by field: {@code toBuilder().clearMetadata()}
   * copies the whole metadata map into the builder only to drop it (issue 11, W1). Every other
   * field of {@link Instance} is carried; NamingSessionHandlerAnswerTest fails when one is added
   * and not carried here.
   */
  static Instance withoutMetadata(Instance stored) {
    Instance.Builder b = Instance.newBuilder()
        .setId(stored.getId())
        .setNamespace(stored.getNamespace())
        .setService(stored.getService())
        .setHost(stored.getHost())
        .setPort(stored.getPort())
        .setProtocol(stored.getProtocol())
        .setEphemeral(stored.getEphemeral())
        .setHealthValue(stored.getHealthValue())
        .setRevision(stored.getRevision())
        .setTtlSeconds(stored.getTtlSeconds())
        .setRegisteredAtMs(stored.getRegisteredAtMs())
        .setOwner(stored.getOwner())
        .setLeaseHolder(stored.getLeaseHolder())
        .setIsolated(stored.getIsolated())
        .addAllTags(stored.getTagsList())
        .setCheckId(stored.getCheckId())
        .setRemoveAfterSeconds(stored.getRemoveAfterSeconds());
    if (stored.hasWeight()) {
      b.setWeight(stored.getWeight());
    }
    if (stored.hasRegisteredWeight()) {
      b.setRegisteredWeight(stored.getRegisteredWeight());
    }
    if (stored.hasCheck()) {
      b.setCheck(stored.getCheck());
    }
    return b.build();
  }
  private static final Set<ClientMessage.BodyCase> KINDS = EnumSet.of(ClientMessage.BodyCase.REGISTER,
      ClientMessage.BodyCase.DEREGISTER, ClientMessage.BodyCase.HEARTBEAT, ClientMessage.BodyCase.SUBSCRIBE,
      ClientMessage.BodyCase.UNSUBSCRIBE, ClientMessage.BodyCase.GOODBYE, ClientMessage.BodyCase.FETCH);

  private final CommandLog commandLog;
  private final Registry registry;
  private final HealthChecker health;
  private final PushHub hub;
  private final Counter registrations;
  private final Counter reassertions;
  private final Counter leaseChecks;

  public NamingSessionHandler(CommandLog commandLog, Registry registry, HealthChecker health, PushHub hub,
      MeterRegistry meters) {
    this.commandLog = commandLog;
    this.registry = registry;
    this.health = health;
    this.hub = hub;
    this.registrations = Counter.builder("lodestar.registrations").tag("api", "grpc")
        .description("instance registrations accepted").register(meters);
    this.reassertions = Counter.builder("lodestar.registrations.unchanged").tag("api", "grpc")
        .description("re-registrations of an instance held unchanged, answered without a log entry").register(meters);
    this.leaseChecks = Counter.builder("lodestar.stream.lease.checks")
        .description("streams' complete checks of every lease they own (due every " + FULL_CHECK_EVERY
            + " heartbeats, skipped while nothing they own can have changed, at once after a silence)")
        .register(meters);
  }

  @Override
  public Set<ClientMessage.BodyCase> accepts() {
    return KINDS;
  }

  @Override
  public Part attach(Session session) {
    return new Stream(session);
  }

  private final class Stream implements Part {
    private final Session session;
    // instances this stream registered, as the registry stores them (the same compact objects, so
    // holding them costs nothing more), so that it can re-assert them after a lapse; keyed by
    // their own service and id in an open table: a slot per instance, no entry or key object.
    // Guarded by itself: registrations complete on the log's threads, heartbeats on the stream's.
    private final OpenSet<StoredInstance> owned = new OpenSet<>(Stream::keyHash,
        (a, b) -> a.sameId(b) && a.service().equals(b.service()));
    private final HealthChecker.KeepAlive keepAlive = health.newKeepAlive();
    private int heartbeats; // the stream's inbound messages arrive one at a time
    // the health checker's lease epoch read before this stream's last complete check of all it
    // owns; a new stream owns nothing, which is as good as checked: what it registers from now on
    // is bound once answered, and a change to it before or after moves one of the two counts
    // (issue 11: every stream's first periodic check, 30 s after it opened, looked at all it held)
    private long checkedEpoch = health.leaseEpoch() + keepAlive.leaseChanges();
    // what this stream was last told of the node's health, as its three fields (compared at every
    // heartbeat; a message is built only when one changes); an SDK assumes UP until told otherwise
    private LogStatus.State toldState = LogStatus.State.UP;
    private String toldReason = "";
    private String toldProtection = "";
    // the shortest TTL this stream registered: a silence that long may have let a lease lapse
    private volatile long shortestTtlNanos = Long.MAX_VALUE;
    // this stream's registrations and deregistrations not answered yet: while there are any, a
    // re-assertion is logged as any write, so that it cannot be answered before one sent earlier
    private final java.util.concurrent.atomic.AtomicInteger writesInFlight =
        new java.util.concurrent.atomic.AtomicInteger();

    Stream(Session session) {
      this.session = session;
    }

    @Override
    public void onMessage(long rid, ClientMessage m) {
      switch (m.getBodyCase()) {
        case REGISTER -> register(rid, m);
        case DEREGISTER -> deregister(rid, m);
        case HEARTBEAT -> heartbeat();
        case SUBSCRIBE -> {
          var s = m.getSubscribe();
          Validation.name("namespace", s.getNamespace());
          Validation.name("service", s.getService());
          hub.subscribe(session, new ServiceKey(s.getNamespace(), s.getService()), s.getKnownRevision());
        }
        case UNSUBSCRIBE -> hub.unsubscribe(session,
            new ServiceKey(m.getUnsubscribe().getNamespace(), m.getUnsubscribe().getService()));
        case GOODBYE -> goodbye();
        case FETCH -> fetch(rid, m);
        default -> throw new IllegalStateException("not a naming message: " + m.getBodyCase());
      }
    }

    @Override
    public void onReady() {
      hub.onReady(session);
    }

    @Override
    public void onClose(boolean clean) {
      if (clean && ownsAny()) {
        goodbye(); // completing the stream is a clean close
      }
      hub.remove(session);
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
      CompletableFuture<Instance> registered;
      if (r.getPersistent()) {
        // as REST's "ephemeral": false: nobody's, no lease; probed when it has a check
        b.setEphemeral(false).clearOwner().clearLeaseHolder().clearTtlSeconds().clearRevision().clearHealth()
            .clearRegisteredAtMs();
        Instance spec = b.build();
        Registry.validateInstance(spec);
        registered = commandLog.submit(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder()
            .setInstance(spec)).build()).thenApply(res -> {
              registrations.increment();
              return res.getInstance();
            });
      } else {
        b.setEphemeral(true).setOwner(session.clientId()).setLeaseHolder(health.localId()).clearRevision()
            .clearHealth().clearRegisteredAtMs().clearCheck();
        Instance spec = b.build();
        Instance held = heldUnchanged(spec);
        registered = held != null ? CompletableFuture.completedFuture(held) : submitRegistration(spec);
      }
      registered.whenComplete((stored, err) -> {
        if (err != null) {
          session.sendError(rid, err);
        } else {
          // metadata is stored as sent: a caller that asked for it back without them has them
          Instance answer = r.getAnswerWithoutMetadata() && stored.getMetadataCount() > 0
              ? withoutMetadata(stored) : stored;
          session.send(ServerMessage.newBuilder().setRequestId(rid)
              .setRegistered(RegisterResponse.newBuilder().setInstance(answer)).build());
        }
      });
    }

    /**
     * The instance as held, when registering {@code spec} would change nothing and its lease is
     * this node's and alive (now bound to this stream): an SDK re-asserting after a reconnect, or
     * registering again what it has, costs no log entry and no fsync. Else null: logged as usual.
     */
    private Instance heldUnchanged(Instance spec) {
      if (writesInFlight.get() != 0
          || !registry.unchangedBy(RegisterInstance.newBuilder().setInstance(spec).build())) {
        return null;
      }
      StoredInstance stored = registry.stored(spec.getNamespace(), spec.getService(), spec.getId());
      if (stored == null) {
        return null;
      }
      InstanceKey key = new InstanceKey(stored.service(), stored.id());
      if (!health.bind(key, keepAlive)) {
        return null; // no live lease here: the write renews it
      }
      Instance held = stored.toInstance();
      synchronized (owned) {
        owned.put(stored);
      }
      shortestTtlNanos = Math.min(shortestTtlNanos, TimeUnit.SECONDS.toNanos(held.getTtlSeconds()));
      reassertions.increment();
      return held;
    }

    private CompletableFuture<Instance> submitRegistration(Instance spec) {
      writesInFlight.incrementAndGet();
      InstanceKey written = new InstanceKey(new ServiceKey(spec.getNamespace(), spec.getService()), spec.getId());
      keepAlive.ownWriteStarted(written); // replacing what this stream holds need not make it check
      return commandLog.submit(Command.newBuilder().setRegisterInstance(RegisterInstance.newBuilder()
          .setInstance(spec)).build()).thenApply(res -> {
            keepAlive.ownWriteEnded(written, false); // before looking: a change from here on is told
            StoredInstance stored = registry.stored(spec.getNamespace(), spec.getService(), spec.getId());
            if (stored == null) { // removed meanwhile; keep what was registered
              stored = StoredInstance.of(written.service(), res.getInstance());
            }
            InstanceKey key = new InstanceKey(stored.service(), stored.id()); // the registry's service key, shared
            synchronized (owned) {
              owned.put(stored);
            }
            shortestTtlNanos = Math.min(shortestTtlNanos, TimeUnit.SECONDS.toNanos(res.getInstance().getTtlSeconds()));
            health.bind(key, keepAlive);
            registrations.increment();
            return res.getInstance();
          }).whenComplete((ok, err) -> {
            writesInFlight.decrementAndGet();
            if (err != null) {
              keepAlive.ownWriteEnded(written, true);
            }
          });
    }

    private void deregister(long rid, ClientMessage m) {
      var d = m.getDeregister();
      String ns = d.getNamespace().isEmpty() ? "default" : d.getNamespace();
      ServiceKey service = new ServiceKey(ns, d.getService());
      String id = d.getInstanceId();
      synchronized (owned) {
        owned.remove(keyHash(service, id.hashCode()), i -> i.idEquals(id) && i.service().equals(service));
      }
      writesInFlight.incrementAndGet();
      commandLog.submit(Command.newBuilder().setDeregisterInstance(DeregisterInstance.newBuilder()
          .setNamespace(ns).setService(d.getService()).setId(d.getInstanceId())).build())
          .whenComplete((res, err) -> {
            writesInFlight.decrementAndGet();
            if (err != null) {
              session.sendError(rid, err);
            } else {
              session.send(ServerMessage.newBuilder().setRequestId(rid).setAck(Ack.getDefaultInstance()).build());
            }
          });
    }

    private void fetch(long rid, ClientMessage m) {
      var f = m.getFetch();
      String ns = f.getNamespace().isEmpty() ? "default" : f.getNamespace();
      Validation.name("service", f.getService());
      session.send(hub.fetched(rid, new ServiceKey(ns, f.getService())));
    }

    private void heartbeat() {
      long sincePrevious = keepAlive.touch(); // renews every lease bound to this stream
      tellStatus();
      // Every lease is checked one by one only now and then, or at once after a silence long
      // enough for one to have lapsed (a long pause): a lapsed or moved lease is re-asserted.
      // The periodic check is skipped when nothing it looks at can have changed since the last
      // one (no registry change, no lease bound elsewhere: a node holding steady), which at
      // 100,000 instances was nearly all of the heartbeats' CPU (a registry lookup per instance).
      // read before looking: a change from here on moves one of them (both only grow)
      long epoch = health.leaseEpoch() + keepAlive.leaseChanges();
      boolean due = ++heartbeats % FULL_CHECK_EVERY == 0;
      boolean silent = sincePrevious >= Math.min(SILENCE_NANOS, shortestTtlNanos);
      if (!silent && (!due || epoch == checkedEpoch)) {
        return;
      }
      checkedEpoch = epoch;
      leaseChecks.increment();
      List<StoredInstance> all;
      synchronized (owned) {
        all = owned.toList(); // bound and re-asserted outside the lock: a re-assertion puts again
      }
      health.bindAll(all, keepAlive, stored -> {
        synchronized (owned) {
          if (!owned.contains(stored)) {
            return; // deregistered meanwhile
          }
        }
        checkedEpoch = -1; // not settled until the re-assertion is applied (it may be refused): look again
        // Expired while the client was alive but silent (a long pause): re-assert it.
        log.info("Re-registering {}/{} for client {} after its lease lapsed", stored.service(), stored.id(),
            session.clientId());
        // what the registry adds (revision, health, time, isolation) is its own to decide again; so is
        // an operator's weight the stored form carries (the registry keeps only its registered weight)
        submitRegistration(stored.toInstance().toBuilder().clearRevision().clearHealth().clearRegisteredAtMs()
            .clearIsolated().setOwner(session.clientId()).setLeaseHolder(health.localId()).build());
      });
    }

    /**
     * Tells the SDK when this node's health changes (no majority, mass-expiry protection): it
     * shows it in its status. Checked at each heartbeat; the first message only when not UP.
     */
    private void tellStatus() {
      LogStatus s = commandLog.status();
      String paused = health.expiryPaused();
      LogStatus.State state = s.state() == LogStatus.State.UP && paused != null ? LogStatus.State.DEGRADED : s.state();
      String reason = s.reason() == null ? "" : s.reason();
      String protection = paused == null ? "" : paused;
      if (state == toldState && reason.equals(toldReason) && protection.equals(toldProtection)) {
        return; // the usual heartbeat: nothing to tell, nothing built
      }
      toldState = state;
      toldReason = reason;
      toldProtection = protection;
      session.send(ServerMessage.newBuilder().setServerStatus(ServerStatus.newBuilder().setStatus(state.name())
          .setReason(reason).setExpiryProtection(protection)).build());
    }

    private boolean ownsAny() {
      synchronized (owned) {
        return !owned.isEmpty();
      }
    }

    private static int keyHash(StoredInstance i) {
      return keyHash(i.service(), i.idHash());
    }

    private static int keyHash(ServiceKey service, int idHash) {
      return 31 * service.hashCode() + idHash;
    }

    private void goodbye() {
      synchronized (owned) {
        owned.clear();
      }
      commandLog.submit(Command.newBuilder().setDeregisterOwned(DeregisterOwned.newBuilder()
          .setOwner(session.clientId())).build());
    }
  }
}
