package io.lodestar.server.naming;

import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.SetHealth;
import io.lodestar.core.naming.InstanceTable;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.core.naming.SharedHeartbeat;
import io.lodestar.core.naming.StoredInstance;
import io.lodestar.server.storage.CommandLog;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides instance health on this node and writes only the transitions to the log.
 *
 * <p>Ephemeral instances hold a lease renewed by heartbeats (REST, or an SDK stream's heartbeat
 * that renews everything the stream owns). Renewal is a volatile write to an in-memory lease:
 * heartbeats never touch the log. A lease is a few fields of the registry's stored instance
 * ({@link StoredInstance}'s lease part, this node's own), not an object and map entry per
 * instance: the walk goes over the registry's instances. A scan each second turns leases older than the TTL into
 * UNHEALTHY and older than 3 × TTL into removal, one batched command per scan.
 *
 * <p>Expiry by deadline: a scan walks the leases only when one of them can have changed state by
 * now. Each walk notes the earliest moment any lease could next lapse or be removed; renewals only
 * move that moment later, so until it comes a scan costs a clock read. A new healthy lease, or one
 * bound to a stream's keep-alive, can lapse no sooner than its TTL from then: it lowers that moment
 * instead, so registering a million instances walks once per TTL, not once per second. What can
 * make a transition due sooner sets a flag that the next scan walks on: a lease moved, changed or
 * tracked unhealthy, a renewal of a lapsed lease (REST, Consul or a stream's keep-alive), a
 * reported status, serving, a change of leader or of a lease holder's liveness. A lease renewed
 * by a stream's keep-alive is due no sooner than that keep-alive's last renewal plus the lease's
 * TTL, so a walk notes, per keep-alive, the shortest TTL of the healthy leases it renews, and a
 * scan checks those few keep-alives (one per stream) instead of one deadline fixed at the walk:
 * while every stream heartbeats, nothing is due and nothing is walked, however many instances they
 * hold. A lease bound to another keep-alive after a walk is walked by its TTL, when the walk notes
 * that keep-alive. A walk now and then (at least every 2 minutes) is a safety net
 * under a missed flag; one that finds a transition logs it at WARN and counts it
 * ({@code lodestar_lease_safety_catches_total}). Every 2 minutes, not every 30 s: at 100,000 leases a
 * walk costs ~20 ms of CPU, which was the health thread's whole cost on a holding node.
 *
 * <p>When the scans run: every second in a cluster (the leader check and lease holders' liveness
 * are not deadlines), while a probe is active, while mass-expiry protection pauses removal, and
 * with a clock other than {@link #SYSTEM_CLOCK} (a test's manual clock: its deadlines say nothing
 * about when to wake). Otherwise — a single node with nothing flagged for the next walk — the
 * health thread sleeps until a lease can next lapse or be removed (the earliest of the walk's
 * deadline, the walked keep-alives' renewal + TTL and the safety walk), 1 s to 2 minutes, instead of
 * waking each second to find nothing due; whatever flags a walk or adds a probe re-arms it to
 * scan within a second, as before.
 *
 * <p>Persistent instances with a check are probed (TCP connect or HTTP GET expecting 2xx) at their
 * interval; they are marked, never removed. Leases count from when the node serves ({@link
 * #serving()}), not from when its storage opened: after a restart every lease gets a full TTL
 * from the moment heartbeats can reach it again.
 *
 * <p>Mass-expiry protection: when more than a share of the leases this node decides — on the
 * whole node, or in one namespace — would be removed within one window, the cause is far more
 * likely a network partition between clients and servers than that many clients dying at once.
 * Removal then pauses (instances stay, marked UNHEALTHY) until the share falls back; a log line,
 * the {@code lodestar_expiry_protection} gauge and {@code /health} say so.
 *
 * <p>All time is read from the injected clock, so tests drive leases with a manual clock and
 * {@link #scanNow()} instead of waiting on wall-clock TTLs.
 */
public final class HealthChecker implements RegistryListener, AutoCloseable {
  public static final int DEFAULT_INTERVAL_SECONDS = 10;
  public static final int DEFAULT_TIMEOUT_SECONDS = 2;
  /** The system's clock; with it an idle single node's scans sleep until a lease can next lapse. */
  public static final LongSupplier SYSTEM_CLOCK = System::nanoTime;
  private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

  private final Registry registry;
  private final CommandLog commandLog;
  private final LongSupplier nanoClock;
  private final LeaseScope scope;
  private final ExpiryProtection protection;
  private volatile boolean serving;
  // expiry by deadline (see the class comment): whether the next scan must walk the leases, and
  // the earliest moment a lease can change state without that flag. A walk resets the moment as it
  // starts and lowers it to what it found; a lease tracked or bound meanwhile, on any thread, lowers
  // it to its own TTL from now (a new lease need not make the next scan walk, so a fill of new
  // instances walks once per TTL, not per second)
  private volatile boolean walkNext = true;
  private final java.util.concurrent.atomic.AtomicLong nextDue;
  // the keep-alives that renewed a healthy lease at the last walk (health thread only)
  private List<KeepAlive> walkedKeepAlives = List.of();
  private long walkCount; // numbers the walks, to tell a keep-alive's first lease of a walk
  private long lastWalkNanos;
  private volatile long leaseWalks; // written by the health thread only
  private volatile long safetyCatches; // written by the health thread only
  // moves on every registry change this node applies (but new ephemeral instances) and whenever a
  // lease is bound away from the keep-alive that renewed it: while it stands still, a stream's
  // periodic check of what it owns would find everything as its last complete check left it
  // (see leaseEpoch())
  private final java.util.concurrent.atomic.AtomicLong leaseEpoch = new java.util.concurrent.atomic.AtomicLong();
  private boolean walkedAsLeader;
  // lease holders other than this node at the last walk (on the leader), and whether each was alive
  private java.util.Map<String, Boolean> otherHolders = java.util.Map.of();
  static final long WALK_AT_LEAST_EVERY_NANOS = TimeUnit.MINUTES.toNanos(2);
  static final long SCAN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
  // far enough for no lease, near enough that clock arithmetic cannot overflow
  private static final long NO_DEADLINE_NANOS = Long.MAX_VALUE >> 2;
  // scans may sleep past the next second when nothing is flagged (see the class comment)
  private final boolean mayIdle;
  private final Object scheduling = new Object();
  private java.util.concurrent.ScheduledFuture<?> nextScan; // guarded by scheduling
  private long scanGeneration; // guarded by scheduling: a scan superseded by a re-arm does not run
  // the next scan is more than a second away: what makes a transition due sooner re-arms it (wake())
  private volatile boolean sleepingLong;
  private final PerService<Probe> probes = new PerService<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "lodestar-health");
    t.setDaemon(true);
    return t;
  });
  private final ExecutorService probeExecutor = Executors.newFixedThreadPool(4, r -> {
    Thread t = new Thread(r, "lodestar-probe");
    t.setDaemon(true);
    return t;
  });
  /** Built on the first HTTP probe: most nodes run none, and the JDK's client costs a start its SSL context. */
  private volatile HttpClient http;

  public record InstanceKey(ServiceKey service, String id) {
    public static InstanceKey of(Instance i) {
      return new InstanceKey(new ServiceKey(i.getNamespace(), i.getService()), i.getId());
    }
  }

  /**
   * Which leases this node decides. A single node decides all. In a cluster, the node an
   * instance's heartbeats reach (its lease holder, recorded in the replicated instance) decides
   * it; when the holder is gone, the leader takes over.
   */
  public interface LeaseScope {
    /** This node's id; empty on a single node. */
    String localId();

    boolean isLeader();

    /** Whether the given lease holder is a live member (asked on the leader only). */
    boolean holderAlive(String holder);

    LeaseScope SINGLE_NODE = new LeaseScope() {
      @Override
      public String localId() {
        return "";
      }

      @Override
      public boolean isLeader() {
        return true;
      }

      @Override
      public boolean holderAlive(String holder) {
        return true;
      }
    };
  }

  /**
   * One stream's sign of life, shared by every lease registered through it: a heartbeat renews
   * them all with one write, however many instances the stream carries (etcd's lease per client,
   * L5's agent per host). A broken stream stops renewing, and each of its leases starts its TTL.
   */
  public final class KeepAlive implements SharedHeartbeat {
    private volatile long lastSeen = nanoClock.getAsLong();
    // a lease bound here was lapsed (unhealthy) at the last walk: a renewal makes it healthy, which
    // the next scan must see
    private volatile boolean holdsLapsed;
    // health thread only: the walk that last saw this keep-alive, and the shortest TTL of the
    // healthy leases it renewed then (its leases can lapse no sooner than lastSeen + that)
    private long walked = -1;
    private long shortestTtlNanos;
    // moves when an instance whose lease this renews was removed, replaced or bound elsewhere
    private final java.util.concurrent.atomic.AtomicLong leaseChanges = new java.util.concurrent.atomic.AtomicLong();
    // instances this keep-alive's stream has a registration of in flight (see ownWriteStarted)
    private final java.util.Set<InstanceKey> ownWrites = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Renews every lease bound to this keep-alive; returns nanoseconds since the previous renewal. */
    public long touch() {
      long now = nanoClock.getAsLong();
      long since = now - lastSeen;
      lastSeen = now;
      if (holdsLapsed) {
        holdsLapsed = false;
        walkSoon();
      }
      return since;
    }

    @Override
    public long lastSeenNanos() {
      return lastSeen;
    }

    @Override
    public void leaseChanged() {
      leaseChanges.incrementAndGet();
    }

    /**
     * With {@link #leaseEpoch()}, what a stream's periodic check compares: this one moves for
     * this keep-alive's own instances (removed, replaced, health marked, bound elsewhere), the
     * node's epoch for what has no keep-alive to tell.
     */
    public long leaseChanges() {
      return leaseChanges.get();
    }

    /**
     * This keep-alive's stream submits a registration of {@code key}. Until {@link #ownWriteEnded},
     * a replacement of that instance does not tell this keep-alive: the stream binds the instance
     * and keeps its latest version once the registration is answered, which is everything its
     * periodic check would do for it (else an SDK re-registering one instance with new metadata
     * made its stream check every instance it owns).
     */
    public void ownWriteStarted(InstanceKey key) {
      ownWrites.add(key);
    }

    /**
     * The registration of {@code key} is answered ({@code failed} false: call before binding and
     * keeping the result, so that a replacement after that is told) or failed (then whatever was
     * not told meanwhile is told now).
     */
    public void ownWriteEnded(InstanceKey key, boolean failed) {
      ownWrites.remove(key);
      if (failed) {
        leaseChanged();
      }
    }

    /** Applier thread: a replacement of an instance this renews, told unless its stream's own write covers it. */
    void replaced(InstanceKey key) {
      if (!ownWrites.contains(key)) {
        leaseChanged();
      }
    }
  }

  private static final class Probe {
    volatile Instance instance;
    volatile long nextAt;
    volatile boolean running;
    volatile long unhealthySince;  // nanos of the first failed probe in a row; 0 when passing

    Probe(Instance instance, long nextAt) {
      this.instance = instance;
      this.nextAt = nextAt;
    }
  }

  public HealthChecker(Registry registry, CommandLog commandLog, LongSupplier nanoClock) {
    this(registry, commandLog, nanoClock, LeaseScope.SINGLE_NODE, ExpiryProtection.DEFAULT);
  }

  public HealthChecker(Registry registry, CommandLog commandLog, LongSupplier nanoClock, LeaseScope scope,
      ExpiryProtection protection) {
    this.registry = registry;
    this.commandLog = commandLog;
    this.nanoClock = nanoClock;
    this.scope = scope;
    this.protection = protection;
    this.mayIdle = nanoClock == SYSTEM_CLOCK && scope.localId().isEmpty();
    this.nextDue = new java.util.concurrent.atomic.AtomicLong(nanoClock.getAsLong() + NO_DEADLINE_NANOS);
  }

  /** The lease holder this node writes into the ephemeral instances registered through it. */
  public String localId() {
    return scope.localId();
  }

  /**
   * Takes over every instance already in the registry (after a restart) and starts scanning. No
   * lease is decided until {@link #serving()}.
   */
  public void start() {
    long now = nanoClock.getAsLong();
    for (ServiceView v : registry.allViews()) {
      v.forEachInstance(i -> track(i, now)); // rendered one at a time, not kept with every view
    }
    synchronized (scheduling) {
      scheduleScan(SCAN_EVERY_NANOS);
    }
  }

  /**
   * The node serves from now: heartbeats can reach it. Every lease restarts its TTL here, however
   * long opening storage (or replaying the Raft log) took, so nothing expires or flaps for lack of
   * heartbeats that could not have arrived.
   */
  public void serving() {
    long now = nanoClock.getAsLong();
    // an unhealthy instance stays lapsed (only a sign of life makes it healthy), but its removal
    // clock restarts too
    registry.forEachStored(l -> {
      if (l.ephemeral()) {
        l.leaseSeenNanos(l.health() == HealthStatus.UNHEALTHY ? now - ttlNanos(l) - 1 : now);
      }
    });
    serving = true;
    walkSoon();
  }

  /** Runs one scan now, on the health thread, and waits until its transitions are applied (tests). */
  public void scanNow() {
    try {
      scheduler.submit(this::scan).get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("health scan failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether removal is paused by mass-expiry protection now, and why; null when it is not. */
  public String expiryPaused() {
    return pausedReason;
  }

  /**
   * Renews an ephemeral instance's lease. False when this node holds no lease for it (unknown, or
   * held by another node): the caller then re-asserts the instance here, which moves the lease.
   */
  public boolean renew(InstanceKey key) {
    StoredInstance l = heldHere(key);
    if (l == null) {
      return false;
    }
    l.leaseReported(HealthStatus.HEALTHY);
    l.leaseSeenNanos(nanoClock.getAsLong());
    if (l.health() != HealthStatus.HEALTHY) {
      walkSoon(); // a lapsed lease renewed: the next scan marks it healthy
    }
    return true;
  }

  /**
   * Renews a lease with the status the instance reports of itself (a Consul TTL check's pass or
   * fail). When that changes the instance's health, the transition is written at once and the
   * future completes after it is applied, so the caller's next read sees it. Completes with false
   * when this node holds no lease for the instance, as for {@link #renew}.
   */
  public java.util.concurrent.CompletableFuture<Boolean> report(InstanceKey key, HealthStatus status) {
    StoredInstance l = heldHere(key);
    if (l == null) {
      return java.util.concurrent.CompletableFuture.completedFuture(false);
    }
    l.leaseReported(status);
    l.leaseSeenNanos(nanoClock.getAsLong());
    if (l.health() != status) {
      walkSoon();
    }
    if (l.health() == status) {
      return java.util.concurrent.CompletableFuture.completedFuture(true);
    }
    return commandLog.submit(Command.newBuilder().setSetHealth(SetHealth.newBuilder()
        .addChanges(change(key, status, false))).build()).thenApply(r -> true);
  }

  /** A keep-alive for one stream, alive from now. */
  public KeepAlive newKeepAlive() {
    return new KeepAlive();
  }

  /**
   * Renews a lease and ties it to a stream's keep-alive, so that the stream's heartbeats renew it
   * from now on. False when this node holds no lease for it, as for {@link #renew}.
   */
  public boolean bind(InstanceKey key, KeepAlive keepAlive) {
    StoredInstance l = heldHere(key);
    if (l == null) {
      return false;
    }
    SharedHeartbeat previous = l.leaseKeepAlive();
    long now = nanoClock.getAsLong();
    l.leaseSeenNanos(now);
    if (previous != keepAlive) {
      if (previous != null) {
        previous.leaseChanged(); // taken from another stream: that stream's check must look again
      }
      l.leaseKeepAlive(keepAlive);
      // its deadline follows another keep-alive than the last walk noted, but renewed now it can
      // lapse no sooner than a TTL from now (written after the lease, so a walk that resets the
      // deadline sees the binding)
      dueNoSoonerThan(now + ttlNanos(l) + 1);
    }
    if (l.health() != l.leaseReported()) {
      walkSoon();
    }
    return true;
  }

  /**
   * {@link #bind} for every instance a stream owns, as its periodic check does: one lookup per
   * service, no key object per instance, and no renewal write where the keep-alive (touched by
   * the caller) already renews the lease. Calls {@code lost} with each instance this node holds no
   * lease for.
   */
  public void bindAll(java.util.Collection<StoredInstance> owned, KeepAlive keepAlive,
      java.util.function.Consumer<StoredInstance> lost) {
    java.util.Map<ServiceKey, InstanceTable> services = new java.util.HashMap<>();
    String self = scope.localId();
    for (StoredInstance o : owned) {
      InstanceTable byId = services.computeIfAbsent(o.service(), registry::storedIn);
      StoredInstance l = byId == null ? null : byId.get(o);
      if (l == null || !l.ephemeral() || l.leaseState() == StoredInstance.LEASE_NEW
          || !l.leaseHolder().equals(self)) {
        lost.accept(o); // as heldHere() finds no lease
      } else if (l.leaseKeepAlive() != keepAlive || l.health() != l.leaseReported()) {
        bind(new InstanceKey(o.service(), o.id()), keepAlive);
      }
    }
  }

  /**
   * A number that moves whenever what a stream's periodic check ({@link #bindAll}) looks at may
   * have changed and no keep-alive could be told instead ({@link KeepAlive#leaseChanges}: an
   * instance bound to one removed, replaced or health marked, or its lease bound away): a
   * snapshot installed, a service deleted, a persistent instance put, an unbound ephemeral one
   * removed. Adding new ephemeral instances, to a service old or new, moves neither: no stream
   * owns them before they are answered. A stream that read both before a complete check and
   * reads the same values later would find every lease as that check left it, so it can skip the
   * check; the lease holder, health and presence of an instance change only through the registry.
   */
  public long leaseEpoch() {
    return leaseEpoch.get();
  }

  /**
   * Nanoseconds since this node last heard from an ephemeral instance (its own heartbeat or its
   * stream's), or -1 when this node holds no lease for it (persistent, or held by another node).
   */
  public long sinceLastHeartbeatNanos(InstanceKey key) {
    StoredInstance l = leased(key);
    if (l == null || l.leaseState() == StoredInstance.LEASE_MOVED) {
      return -1;
    }
    return nanoClock.getAsLong() - lastSignOfLife(l);
  }

  /** The stored instance, or null. */
  private StoredInstance stored(InstanceKey key) {
    return registry.stored(key.service().namespace(), key.service().service(), key.id());
  }

  /** The stored instance when it is ephemeral and its lease is tracked (whoever holds it), or null. */
  private StoredInstance leased(InstanceKey key) {
    StoredInstance l = stored(key);
    return l == null || !l.ephemeral() || l.leaseState() == StoredInstance.LEASE_NEW ? null : l;
  }

  /** The stored instance when it is ephemeral and its lease is held by this node, or null. */
  private StoredInstance heldHere(InstanceKey key) {
    StoredInstance l = leased(key);
    return l == null || !l.leaseHolder().equals(scope.localId()) ? null : l;
  }

  private static long lastSignOfLife(StoredInstance l) {
    long seen = l.leaseSeenNanos();
    SharedHeartbeat k = l.leaseKeepAlive();
    if (k != null) {
      long shared = k.lastSeenNanos();
      if (shared - seen > 0) {
        seen = shared;
      }
    }
    return seen;
  }

  private static long ttlNanos(StoredInstance l) {
    return TimeUnit.SECONDS.toNanos(l.ttlSeconds());
  }

  /** Silence after which the instance is removed: its TTL plus its removal delay, or 3 × TTL. */
  private static long removeAfterNanos(StoredInstance l) {
    int ttl = l.ttlSeconds();
    return TimeUnit.SECONDS.toNanos(l.removeAfterSeconds() > 0 ? ttl + l.removeAfterSeconds() : 3 * ttl);
  }

  /**
   * How many safety walks found a transition nothing had flagged: each one is a missed flag, which
   * the safety walk decided up to {@link #WALK_AT_LEAST_EVERY_NANOS} late. Zero unless there is a bug.
   */
  public long safetyCatches() {
    return safetyCatches;
  }

  /** How many scans walked every lease since start (the others found nothing due). */
  public long leaseWalks() {
    return leaseWalks;
  }

  /** Leases this node decides (in a cluster: those it holds, plus any the leader took over). */
  public int leaseCount() {
    int[] n = {0};
    registry.forEachStored(l -> {
      if (l.ephemeral() && l.leaseState() == StoredInstance.LEASE_DECIDED) {
        n[0]++;
      }
    });
    return n[0];
  }

  @Override
  public void onServiceChanged(ServiceChange change) {
    long now = nanoClock.getAsLong();
    if (change.deleted()) {
      leaseEpoch.incrementAndGet(); // told after the registry changed (Registry.flush), so a check that follows sees it
      probes.removeService(change.key());
      return;
    }
    if (change.previousRevision() == 0) {
      // No usable base (a new service, or one a snapshot replaced): resync this service from its
      // view. (Leases live on the stored instances: a restored one is new and starts afresh.) Its
      // new instances alone move no lease a stream owns: a snapshot's restore also tells every
      // service it replaced as deleted, which moves the epoch above.
      probes.removeService(change.key());
      boolean[] moved = {false};
      change.view().forEachInstance(i -> moved[0] |= track(i, now));
      if (moved[0]) {
        leaseEpoch.incrementAndGet();
      }
      return;
    }
    boolean moved = change.unboundRemovals();
    for (Instance i : change.upserts()) {
      moved |= track(i, now);
    }
    if (moved) {
      // after the registry changed, so a check that reads the epoch from here on sees the change
      leaseEpoch.incrementAndGet();
    }
    for (String id : change.removedIds()) {
      probes.remove(new InstanceKey(change.key(), id));
    }
  }

  /**
   * Starts or follows the lease (or probe) of an instance the registry just put. True when the
   * node's epoch ({@link #leaseEpoch()}) must move. False for a new ephemeral instance that no
   * stream has bound yet, which cannot alter what a stream's periodic check finds (a registration
   * binds its instance once answered, which is after this: a node answers once it has applied and
   * told its listeners), and for a replaced one whose keep-alive was told instead
   * ({@link KeepAlive#leaseChanged}). Registering 100,000 instances would otherwise leave every
   * stream a complete check of all it owns to do once they stop (issue 11, W3).
   */
  private boolean track(Instance i, long now) {
    InstanceKey k = InstanceKey.of(i);
    if (i.getEphemeral()) {
      probes.remove(k);
      StoredInstance l = stored(k);
      if (l == null || !l.ephemeral()) {
        return true; // replaced or removed since: the change that did it is tracked in turn
      }
      byte state = l.leaseState();
      if (state == StoredInstance.LEASE_DECIDED || state == StoredInstance.LEASE_NOT_DECIDED) {
        // the same lease, carried over by the registry (registrations renew explicitly, through
        // renew()): replaced or health marked, which only the stream renewing it must look at
        SharedHeartbeat keepAlive = l.leaseKeepAlive();
        if (keepAlive != null) {
          if (keepAlive instanceof KeepAlive own) {
            own.replaced(k);
          } else {
            keepAlive.leaseChanged();
          }
          return false;
        }
        return true;
      }
      // nothing carried over from an instance it replaced: no keep-alive, no lease kept yet
      boolean fresh = state == StoredInstance.LEASE_NEW && l.leaseKeepAlive() == null;
      // a lease that moves here starts afresh; one that stays keeps its last sign of life; a new
      // one of an unhealthy instance (a check that must pass first) starts lapsed, so that only
      // a sign of life makes it healthy
      if (state == StoredInstance.LEASE_MOVED) {
        l.leaseSeenNanos(now);
      } else if (state == StoredInstance.LEASE_NEW) {
        l.leaseSeenNanos(l.health() == HealthStatus.UNHEALTHY ? now - ttlNanos(l) - 1 : now);
      }
      boolean heldHere = l.leaseHolder().equals(scope.localId());
      l.leaseState(heldHere ? StoredInstance.LEASE_DECIDED : StoredInstance.LEASE_NOT_DECIDED);
      // after the lease's fields, so that a walk resetting the deadline or the flag sees them
      if (fresh && heldHere && l.health() == HealthStatus.HEALTHY && l.leaseReported() == HealthStatus.HEALTHY) {
        dueNoSoonerThan(now + ttlNanos(l) + 1); // nothing to decide about it before its TTL runs out
      } else {
        // a changed, moved or unhealthy lease, or one another node holds (the leader's walk notes
        // its holder, to take over at once should that node go): not in the last walk's deadlines
        walkSoon();
      }
      return !fresh;
    } else {
      if (i.hasCheck()) {
        Probe p = probes.get(k);
        if (p == null) {
          probes.put(k, new Probe(i, now)); // probe at once
          wake(); // probes keep the one-second cadence
        } else {
          p.instance = i;
        }
      } else {
        probes.remove(k);
      }
      return true; // persistent: it may have replaced an instance a stream owns
    }
  }

  // ------------------------------------------------------------------ scanning

  private volatile String pausedReason;
  // removals decided in the current protection window, per namespace; health thread only
  private final java.util.Map<String, Integer> removedInWindow = new java.util.HashMap<>();
  private long windowStart;

  /** Schedules the next scan; a scan scheduled before does not run. Caller holds {@code scheduling}. */
  private void scheduleScan(long delayNanos) {
    long generation = ++scanGeneration;
    try {
      nextScan = scheduler.schedule(() -> scheduledScan(generation), delayNanos, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed
    }
  }

  private void scheduledScan(long generation) {
    synchronized (scheduling) {
      if (generation != scanGeneration) {
        return; // re-armed since: the scan scheduled then runs instead
      }
      sleepingLong = false;
    }
    try {
      scan();
    } finally {
      long delay = idle() ? idleDelayNanos() : SCAN_EVERY_NANOS;
      synchronized (scheduling) {
        if (delay > SCAN_EVERY_NANOS) {
          sleepingLong = true;
          if (!idle()) { // looked at again with the flag up: what flagged a walk meanwhile may not have seen it
            sleepingLong = false;
            delay = SCAN_EVERY_NANOS;
          } else {
            // likewise a new lease's deadline lowered since the delay was worked out: read after
            // the flag, so a lease tracked later finds the flag up and wakes the scan itself
            long untilDue = nextDue.get() - nanoClock.getAsLong();
            if (untilDue < delay) {
              delay = Math.max(SCAN_EVERY_NANOS, untilDue);
              sleepingLong = delay > SCAN_EVERY_NANOS;
            }
          }
        }
        scheduleScan(delay);
      }
    }
  }

  /** Whether the scans may sleep past the next second (see the class comment). */
  private boolean idle() {
    return mayIdle && serving && !walkNext && pausedReason == null && probes.isEmpty();
  }

  /**
   * Until a lease can next change state without a flag: the last walk's deadline, the walked
   * keep-alives' last renewal + shortest TTL, the safety walk; 1 s to 2 minutes. Health thread only.
   */
  private long idleDelayNanos() {
    long now = nanoClock.getAsLong();
    long delay = Math.min(nextDue.get() - now, lastWalkNanos + WALK_AT_LEAST_EVERY_NANOS - now);
    for (KeepAlive k : walkedKeepAlives) {
      delay = Math.min(delay, k.lastSeen + k.shortestTtlNanos - now);
    }
    return Math.max(SCAN_EVERY_NANOS, Math.min(delay, WALK_AT_LEAST_EVERY_NANOS));
  }

  /**
   * A lease tracked or bound now can change state no sooner than {@code deadline}: the scan at or
   * after it walks, and a scan that sleeps longer is brought within a second to sleep until then.
   * Free while a fill's new deadlines come after the earliest (one volatile read).
   */
  private void dueNoSoonerThan(long deadline) {
    lowerNextDue(deadline);
    wake();
  }

  private void lowerNextDue(long deadline) {
    long due;
    while (deadline - (due = nextDue.get()) < 0 && !nextDue.compareAndSet(due, deadline)) {
      // lowered by another thread meanwhile: compare again
    }
  }

  /** Flags the next scan to walk, and brings it within a second when it sleeps longer. */
  private void walkSoon() {
    walkNext = true;
    wake();
  }

  /**
   * Re-arms a scan that sleeps past the next second to run within one, as the one-second cadence
   * did; called after whatever makes a transition due sooner has been written.
   */
  private void wake() {
    if (!sleepingLong) {
      return;
    }
    synchronized (scheduling) {
      if (sleepingLong) {
        sleepingLong = false;
        java.util.concurrent.ScheduledFuture<?> pending = nextScan;
        if (pending == null || pending.getDelay(TimeUnit.NANOSECONDS) > SCAN_EVERY_NANOS) {
          if (pending != null) {
            pending.cancel(false);
          }
          scheduleScan(SCAN_EVERY_NANOS);
        }
      }
    }
  }

  /** Whether the next scan sleeps past the next second (nothing can lapse sooner, nothing is flagged). */
  public boolean scansIdle() {
    return sleepingLong;
  }

  private void scan() {
    if (!serving) {
      return;
    }
    try {
      long now = nanoClock.getAsLong();
      boolean leader = scope.isLeader();
      Walk why = whyWalk(now, leader);
      List<SetHealth.Change> changes = why == Walk.NO ? List.of() : walk(now, leader);
      if (why == Walk.SAFETY && !changes.isEmpty()) {
        // nothing flagged this walk and no deadline had come: a transition that should have been
        // flagged was not (a bug to report, not a state of the cluster)
        safetyCatches++;
        log.warn("Health: the periodic safety walk found {} lease transition(s) nothing had flagged (first: {}); "
            + "decided now", changes.size(), changes.get(0).getRef());
      }
      probes.forEach((key, p) -> {
        // one node probes: the leader (a single node is its own leader)
        if (leader && !p.running && now >= p.nextAt) {
          p.running = true;
          probeExecutor.execute(() -> runProbe(key, p));
        }
      });
      if (!changes.isEmpty()) {
        long expired = changes.stream().filter(SetHealth.Change::getRemove).count();
        log.info("Health: {} instance(s) changed state ({} expired)", changes.size(), expired);
        commandLog.submit(Command.newBuilder().setSetHealth(SetHealth.newBuilder().addAllChanges(changes)).build())
            .get(30, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      log.warn("Health scan failed: {}", e.toString());
    }
  }

  /** Why a scan walks the leases, if it does. */
  private enum Walk { NO, DUE, SAFETY }

  /** Whether a lease can have changed state since the last walk (see the class comment), or the safety walk is due. */
  private Walk whyWalk(long now, boolean leader) {
    if (walkNext || now - nextDue.get() >= 0 || leader != walkedAsLeader
        || pausedReason != null) { // a pause is re-judged every second
      return Walk.DUE;
    }
    for (KeepAlive k : walkedKeepAlives) {
      if (now - (k.lastSeen + k.shortestTtlNanos) >= 0) {
        return Walk.DUE; // a stream went quiet for as long as its shortest TTL
      }
    }
    if (leader) {
      for (var e : otherHolders.entrySet()) {
        if (scope.holderAlive(e.getKey()) != e.getValue()) {
          return Walk.DUE; // a holder went or came back: its leases change hands
        }
      }
    }
    return now - lastWalkNanos >= WALK_AT_LEAST_EVERY_NANOS ? Walk.SAFETY : Walk.NO;
  }

  /** Decides every lease; returns the transitions, protected. Notes when the next one can be due. */
  private List<SetHealth.Change> walk(long now, boolean leader) {
    walkNext = false; // set before reading the leases: anything that changes them from here walks again
    nextDue.set(now + NO_DEADLINE_NANOS); // likewise: a lease tracked from here lowers it again
    leaseWalks++;
    long walk = ++walkCount;
    List<KeepAlive> keepAlives = new ArrayList<>();
    lastWalkNanos = now;
    walkedAsLeader = leader;
    List<SetHealth.Change> found = new ArrayList<>();
    String self = scope.localId();
    java.util.Map<String, Boolean> alive = new java.util.HashMap<>();
    java.util.concurrent.atomic.AtomicInteger takenOver = new java.util.concurrent.atomic.AtomicInteger();
    long[] due = {now + NO_DEADLINE_NANOS}; // the safety walk has its own deadline (whyWalk)
    registry.forEachStored(l -> {
      byte state = l.leaseState();
      if (!l.ephemeral() || state == StoredInstance.LEASE_NEW || state == StoredInstance.LEASE_MOVED
          || state == StoredInstance.LEASE_CHANGED) {
        return; // persistent, or not tracked yet: tracking it sets walkNext
      }
      String holder = l.leaseHolder();
      boolean responsible = holder.equals(self) || (leader && !alive.computeIfAbsent(holder, scope::holderAlive));
      if (!responsible) {
        l.leaseState(StoredInstance.LEASE_NOT_DECIDED);
        return;
      }
      if (state != StoredInstance.LEASE_DECIDED) {
        // taking over from a holder that is gone: its last heartbeat is unknown here, so the
        // instance gets a full TTL from now — it never expires before its TTL really passed
        l.leaseState(StoredInstance.LEASE_DECIDED);
        l.leaseSeenNanos(now);
        takenOver.incrementAndGet();
        due[0] = Math.min(due[0], now + ttlNanos(l) + 1);
        return;
      }
      SharedHeartbeat ka = l.leaseKeepAlive();
      long seen = lastSignOfLife(l);
      long age = now - seen;
      HealthStatus health = l.health();
      if (age > removeAfterNanos(l)) {
        found.add(change(l, HealthStatus.UNHEALTHY, true));
        due[0] = now; // removed, or held by protection: decided again at the next scan
      } else if (age > ttlNanos(l)) {
        if (health != HealthStatus.UNHEALTHY) {
          found.add(change(l, HealthStatus.UNHEALTHY, false));
        }
        due[0] = Math.min(due[0], seen + removeAfterNanos(l) + 1);
      } else {
        HealthStatus reported = l.leaseReported();
        if (health != reported) {
          found.add(change(l, reported, false));
        }
        if (!(ka instanceof KeepAlive k)) {
          due[0] = Math.min(due[0], seen + ttlNanos(l) + 1);
        } else if (k.walked != walk) { // due no sooner than the keep-alive's last renewal + TTL
          k.walked = walk;
          k.shortestTtlNanos = ttlNanos(l) + 1;
          keepAlives.add(k);
        } else {
          k.shortestTtlNanos = Math.min(k.shortestTtlNanos, ttlNanos(l) + 1);
        }
      }
      if (ka instanceof KeepAlive lapsed && health == HealthStatus.UNHEALTHY) {
        lapsed.holdsLapsed = true;
      }
    });
    lowerNextDue(due[0]); // not set: a lease tracked during the walk may have lowered it further
    walkedKeepAlives = keepAlives;
    alive.remove(self);
    otherHolders = alive;
    if (takenOver.get() > 0) {
      log.info("Health: took over {} lease(s) whose holder is gone; each gets a full TTL from now", takenOver.get());
    }
    return protect(found, now);
  }

  /**
   * Mass-expiry protection over the removals of one scan: counts them with those already made in
   * the current window, per namespace and for the node, against the leases this node decides.
   * Where the share is exceeded, removals become "unhealthy" marks. Health thread only.
   */
  private List<SetHealth.Change> protect(List<SetHealth.Change> changes, long now) {
    if (protection.share() >= 1.0) {
      return changes;
    }
    if (now - windowStart > protection.windowNanos()) {
      windowStart = now;
      removedInWindow.clear();
    }
    if (pausedReason == null && removedInWindow.isEmpty() && changes.stream().noneMatch(SetHealth.Change::getRemove)) {
      return changes; // nothing removed in the window and nothing to remove: no share to count, no walk of the leases
    }
    java.util.Map<String, Integer> decided = new java.util.HashMap<>();
    registry.forEachStored(l -> {
      if (l.ephemeral() && l.leaseState() == StoredInstance.LEASE_DECIDED) {
        decided.merge(l.service().namespace(), 1, Integer::sum);
      }
    });
    java.util.Map<String, Integer> removing = new java.util.HashMap<>(removedInWindow);
    for (SetHealth.Change c : changes) {
      if (c.getRemove()) {
        removing.merge(c.getRef().getNamespace(), 1, Integer::sum);
      }
    }
    int allRemoving = removing.values().stream().mapToInt(Integer::intValue).sum();
    int allLeases = decided.values().stream().mapToInt(Integer::intValue).sum() + sum(removedInWindow);
    boolean node = protection.exceeded(allRemoving, allLeases);
    java.util.Set<String> pausedNs = new java.util.TreeSet<>();
    for (var e : removing.entrySet()) {
      int leasesInNs = decided.getOrDefault(e.getKey(), 0) + removedInWindow.getOrDefault(e.getKey(), 0);
      if (node || protection.exceeded(e.getValue(), leasesInNs)) {
        pausedNs.add(e.getKey());
      }
    }
    String reason = null;
    if (node) {
      reason = "mass-expiry protection: " + allRemoving + " of " + allLeases + " leases on this node (namespace(s) "
          + String.join(", ", pausedNs) + ") would expire within "
          + TimeUnit.NANOSECONDS.toSeconds(protection.windowNanos()) + " s; removal paused";
    } else if (!pausedNs.isEmpty()) {
      reason = "mass-expiry protection: more than " + Math.round(protection.share() * 100)
          + "% of the leases of namespace(s) " + String.join(", ", pausedNs) + " would expire within "
          + TimeUnit.NANOSECONDS.toSeconds(protection.windowNanos()) + " s; removal paused there";
    }
    if (!java.util.Objects.equals(reason, pausedReason)) {
      if (reason != null) {
        log.warn("Health: {} (instances stay, marked unhealthy, until heartbeats return or the share falls)", reason);
      } else {
        log.info("Health: mass-expiry protection lifted; expired leases are removed again");
      }
      pausedReason = reason;
    }
    if (reason == null) {
      for (SetHealth.Change c : changes) {
        if (c.getRemove()) {
          removedInWindow.merge(c.getRef().getNamespace(), 1, Integer::sum);
        }
      }
      return changes;
    }
    List<SetHealth.Change> kept = new ArrayList<>(changes.size());
    for (SetHealth.Change c : changes) {
      String ns = c.getRef().getNamespace();
      if (c.getRemove() && pausedNs.contains(ns)) {
        StoredInstance l = registry.stored(ns, c.getRef().getService(), c.getRef().getId());
        if (l != null && l.health() != HealthStatus.UNHEALTHY) {
          kept.add(c.toBuilder().setRemove(false).build()); // still marked, not removed
        }
      } else {
        if (c.getRemove()) {
          removedInWindow.merge(ns, 1, Integer::sum);
        }
        kept.add(c);
      }
    }
    return kept;
  }

  private static int sum(java.util.Map<String, Integer> m) {
    return m.values().stream().mapToInt(Integer::intValue).sum();
  }

  private void runProbe(InstanceKey key, Probe p) {
    Instance i = p.instance;
    HealthCheck check = i.getCheck();
    int timeout = check.getTimeoutSeconds() == 0 ? DEFAULT_TIMEOUT_SECONDS : check.getTimeoutSeconds();
    int interval = check.getIntervalSeconds() == 0 ? DEFAULT_INTERVAL_SECONDS : check.getIntervalSeconds();
    boolean up;
    try {
      up = check.hasHttp() ? probeHttp(i, check.getHttp(), timeout) : probeTcp(i, check.getTcp(), timeout);
    } catch (RuntimeException e) {
      up = false;
    }
    long now = nanoClock.getAsLong();
    p.nextAt = now + TimeUnit.SECONDS.toNanos(interval);
    p.running = false;
    HealthStatus status = up ? HealthStatus.HEALTHY : HealthStatus.UNHEALTHY;
    if (up) {
      p.unhealthySince = 0;
    } else if (p.unhealthySince == 0) {
      p.unhealthySince = now;
    }
    if (probes.get(key) == p && !up && i.getRemoveAfterSeconds() > 0
        && now - p.unhealthySince > TimeUnit.SECONDS.toNanos(i.getRemoveAfterSeconds())) {
      log.info("Probe of {}/{}: failing for more than {} s, removed", key.service(), key.id(),
          i.getRemoveAfterSeconds());
      commandLog.submit(Command.newBuilder().setSetHealth(SetHealth.newBuilder()
          .addChanges(change(key, status, true))).build());
    } else if (probes.get(key) == p && p.instance.getHealth() != status) {
      log.info("Probe of {}/{} {}: now {}", key.service(), key.id(), check.hasHttp() ? "http" : "tcp", status);
      commandLog.submit(Command.newBuilder().setSetHealth(SetHealth.newBuilder()
          .addChanges(change(key, status, false))).build());
    }
  }

  private static boolean probeTcp(Instance i, io.lodestar.api.v1.TcpCheck tcp, int timeoutSeconds) {
    String host = i.getHost();
    int port = i.getPort();
    if (!tcp.getAddress().isEmpty()) {
      int colon = tcp.getAddress().lastIndexOf(':');
      host = tcp.getAddress().substring(0, colon).replace("[", "").replace("]", "");
      try {
        port = Integer.parseInt(tcp.getAddress().substring(colon + 1));
      } catch (NumberFormatException e) {
        return false;
      }
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), timeoutSeconds * 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private HttpClient http() {
    HttpClient c = http;
    if (c == null) {
      synchronized (this) {
        c = http;
        if (c == null) {
          // HTTP/1.1, as Consul's checks: no h2c upgrade (deprecated by RFC 9113) offered to the probed
          // app, whose server may mishandle it, and none of the JDK client's own h2c failures
          http = c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS)).executor(probeExecutor).build();
        }
      }
    }
    return c;
  }

  private boolean probeHttp(Instance i, io.lodestar.api.v1.HttpCheck check, int timeoutSeconds) {
    String host = i.getHost().contains(":") && !i.getHost().startsWith("[") ? "[" + i.getHost() + "]" : i.getHost();
    String url = check.getUrl().isEmpty() ? "http://" + host + ":" + i.getPort() + check.getPath() : check.getUrl();
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create(url))
          .timeout(Duration.ofSeconds(timeoutSeconds)).GET().build();
      HttpResponse<Void> resp = http().send(req, HttpResponse.BodyHandlers.discarding());
      return resp.statusCode() / 100 == 2;
    } catch (IOException | IllegalArgumentException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static SetHealth.Change change(StoredInstance l, HealthStatus status, boolean remove) {
    return SetHealth.Change.newBuilder().setRef(InstanceRef.newBuilder().setNamespace(l.service().namespace())
        .setService(l.service().service()).setId(l.id())).setStatus(status).setRemove(remove).build();
  }

  private static SetHealth.Change change(InstanceKey k, HealthStatus status, boolean remove) {
    return SetHealth.Change.newBuilder().setRef(InstanceRef.newBuilder().setNamespace(k.service().namespace())
        .setService(k.service().service()).setId(k.id())).setStatus(status).setRemove(remove).build();
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    probeExecutor.shutdownNow();
  }
}
