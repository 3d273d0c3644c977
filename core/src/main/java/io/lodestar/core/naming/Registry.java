package io.lodestar.core.naming;

import io.lodestar.api.Limits;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.CreateNamespace;
import io.lodestar.api.v1.state.DeleteNamespace;
import io.lodestar.api.v1.state.DeleteService;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.RegistrySnapshot;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.SetHealth;
import io.lodestar.api.v1.state.UpdateInstance;
import io.lodestar.core.LodestarException;
import io.lodestar.core.LodestarException.Code;
import io.lodestar.core.Validation;
import io.lodestar.core.governance.RuleKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The naming state machine: namespaces, services and instances.
 *
 * <p>Threading: {@link #apply} and {@link #flush} run on one thread at a time (the log's applier);
 * every other method may be called from any thread and reads immutable {@link ServiceView}s
 * published through volatile fields. Apply is deterministic: it never reads a clock (time comes
 * from {@link Command#getTimeMs()}), and a command that fails throws before it mutates anything.
 *
 * <p>Revisions: one registry-wide counter grows by one for every change to a service; the service
 * and the changed instance take the new value. Revisions are therefore unique and comparable
 * across services, and a service's revision grows with each of its changes.
 *
 * <p>Views are rebuilt once per batch ({@link #flush}), so a burst of registrations into one
 * service costs one copy, and listeners see one coalesced change per service per batch.
 */
public final class Registry {
  public static final String DEFAULT_NAMESPACE = "default";
  public static final double DEFAULT_PROTECT_THRESHOLD = 0.5;
  public static final int DEFAULT_TTL_SECONDS = 10;
  public static final int DEFAULT_WEIGHT = 100;

  private final Map<String, Namespace> namespaces = new ConcurrentHashMap<>();
  private final Map<ServiceKey, ServiceState> services = new ConcurrentHashMap<>();
  // services per namespace, kept as services come and go (applier only writes); read by any
  // thread: a node checks its namespace limit on every write that creates a service, and counting
  // by walking and sorting every service made that write O(services) (the million tier's 10,000)
  private final Map<String, Integer> serviceCounts = new ConcurrentHashMap<>();
  // owner (SDK client id) -> its instances as stored now, found by service and id, in one open
  // table per owner: a slot per instance and no key object (the stored instance is its own key).
  // Not a table per owner and service: a client with a few instances in each of many services
  // paid a map entry, a set and its smallest table per service (~23 B per instance in bench
  // compare's shape). Every put of an owned instance replaces its element, so no replaced
  // version stays reachable from here; applier only
  private final Map<String, OpenSet<StoredInstance>> owned = new HashMap<>();
  private final Set<ServiceState> dirty = new LinkedHashSet<>();
  private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();
  private volatile long revision;
  private volatile int instanceCount;  // written by the applier only
  // Whether an operator's weight holds over re-registrations (feature level 1, StateMachine): until
  // every member of a cluster applies it so, each applies weights as the oldest one does. Set in
  // log order by the state machine; read by the applier and by unchangedBy's callers.
  private volatile boolean operatorWeightsHold = true;

  public Registry() {
    namespaces.put(DEFAULT_NAMESPACE, Namespace.newBuilder().setName(DEFAULT_NAMESPACE).build());
  }

  /**
   * How weights apply, by the state's feature level: from level 1 an operator's weight holds over
   * the instance's re-registrations (its own is kept as {@code registered_weight}) and can be given
   * back ({@code restore_weight}); below it a registration's weight replaces the operator's and
   * neither field is read, as in the versions before. The state machine's to set, in log order.
   */
  public void operatorWeightsHold(boolean hold) {
    operatorWeightsHold = hold;
  }

  /**
   * Refuses, before it is logged, a give-back of an operator's weight while weights do not hold
   * (below feature level 1): a member of an older version would not read it.
   */
  public void admit(Command cmd) {
    if (cmd.hasRegisterInstance() && cmd.getRegisterInstance().getInstance().getCheck().hasHttp()) {
      // Here and not in validate, which apply runs too: a log written before this check may hold such
      // paths, and replaying it must build the state it built then.
      var http = cmd.getRegisterInstance().getInstance().getCheck().getHttp();
      if (http.getUrl().isEmpty()) {
        Validation.probeUrl("check.http.path", http.getPath(), "http://probed.host:1" + http.getPath());
      } else {
        Validation.probeUrl("check.http.url", http.getUrl(), http.getUrl());
      }
    }
    if (ignoresRestoreWeight(cmd)) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "giving an operator's weight back "
          + "needs feature level 1, and the state is at level 0: a member runs an older version (GET /v1/cluster "
          + "shows each member's level). Until every member runs this one, an instance's registration replaces "
          + "an operator's weight; set the weight to give it another", "restoreWeight");
    }
  }

  /** A give-back that weights below level 1 do not know: it applies as if the field were not there. */
  private boolean ignoresRestoreWeight(Command cmd) {
    return !operatorWeightsHold && cmd.hasUpdateInstance() && cmd.getUpdateInstance().getRestoreWeight();
  }

  public void addListener(RegistryListener listener) {
    listeners.add(listener);
  }

  // ------------------------------------------------------------------ reads (any thread)

  public long revision() {
    return revision;
  }

  public int instanceCount() {
    return instanceCount;
  }

  public Namespace namespace(String name) {
    return namespaces.get(name);
  }

  /** Namespaces sorted by name. */
  public List<Namespace> namespaces() {
    return new TreeMap<>(namespaces).values().stream().toList();
  }

  /** The namespace, or {@link LodestarException} (invalid name, or not found). */
  public Namespace requireNamespace(String ns) {
    Validation.name("namespace", ns);
    Namespace n = namespaces.get(ns);
    if (n == null) {
      throw LodestarException.notFound("namespace " + ns + " does not exist");
    }
    return n;
  }

  /** The service's current view, or {@link LodestarException} (invalid name, or not found). */
  public ServiceView requireView(String ns, String svc) {
    requireNamespace(ns);
    Validation.name("service", svc);
    ServiceView v = view(ns, svc);
    if (v == null) {
      throw LodestarException.notFound("service " + ns + "/" + svc + " does not exist");
    }
    return v;
  }

  /** The current view of a service, or null if it does not exist. */
  public ServiceView view(String namespace, String service) {
    ServiceState s = services.get(new ServiceKey(namespace, service));
    return s == null ? null : s.view;
  }

  /**
   * An instance as stored now, in compact form, or null. Any thread: what an SDK stream keeps to
   * re-assert its instances shares it instead of holding a copy.
   */
  public StoredInstance stored(String namespace, String service, String id) {
    ServiceState s = services.get(new ServiceKey(namespace, service));
    return s == null ? null : s.instances.get(id);
  }

  /**
   * One service's stored instances by id (live; its writes are the registry's own), or null when
   * the service does not exist. Any thread: a stream's periodic check looks up each
   * service once for all the instances it owns there.
   */
  public InstanceTable storedIn(ServiceKey service) {
    ServiceState s = services.get(service);
    return s == null ? null : s.instances;
  }

  /** A service's own governance rules (no namespace defaults); empty when it has none. */
  public GovernanceRules ownRules(String namespace, String service) {
    ServiceState s = services.get(new ServiceKey(namespace, service));
    return s == null ? GovernanceRules.getDefaultInstance() : s.info.getRules();
  }

  /** How many services the namespace holds now (0 for one that does not exist). Any thread. */
  public int serviceCount(String namespace) {
    return serviceCounts.getOrDefault(namespace, 0);
  }

  /** Views of every service in a namespace, sorted by name. */
  public List<ServiceView> views(String namespace) {
    List<ServiceView> out = new ArrayList<>();
    for (ServiceState s : services.values()) {
      if (s.key.namespace().equals(namespace)) {
        out.add(s.view);
      }
    }
    out.sort((a, b) -> a.key().compareTo(b.key()));
    return out;
  }

  /**
   * Every instance as stored now, in no particular order, without rendering any. Any thread: the
   * lease keeper walks its leases (kept on the stored instances) with it.
   */
  public void forEachStored(java.util.function.Consumer<StoredInstance> action) {
    for (ServiceState s : services.values()) {
      s.instances.forEach(action);
    }
  }

  /** Every service's view. */
  public List<ServiceView> allViews() {
    List<ServiceView> out = new ArrayList<>(services.size());
    for (ServiceState s : services.values()) {
      out.add(s.view);
    }
    return out;
  }

  // ------------------------------------------------------------------ validation (any thread)

  /**
   * Stateless checks, run before a command is logged so that malformed commands never reach the
   * log. Checks that depend on state (does the namespace exist?) happen in {@link #apply}.
   */
  public static void validate(Command cmd) {
    switch (cmd.getKindCase()) {
      case CREATE_NAMESPACE -> Validation.name("name", cmd.getCreateNamespace().getName());
      case DELETE_NAMESPACE -> Validation.name("name", cmd.getDeleteNamespace().getName());
      case PUT_SERVICE -> {
        PutService p = cmd.getPutService();
        Validation.name("namespace", p.getNamespace());
        Validation.name("service", p.getName());
        Validation.metadata("metadata", p.getMetadataMap());
        Validation.share("protectThreshold", p.getProtectThreshold());
      }
      case DELETE_SERVICE -> {
        Validation.name("namespace", cmd.getDeleteService().getNamespace());
        Validation.name("service", cmd.getDeleteService().getName());
      }
      case REGISTER_INSTANCE -> validateInstance(cmd.getRegisterInstance().getInstance());
      case DEREGISTER_INSTANCE -> {
        DeregisterInstance d = cmd.getDeregisterInstance();
        Validation.name("namespace", d.getNamespace());
        Validation.name("service", d.getService());
        Validation.name("id", d.getId());
      }
      case UPDATE_INSTANCE -> {
        UpdateInstance u = cmd.getUpdateInstance();
        Validation.name("namespace", u.getRef().getNamespace());
        Validation.name("service", u.getRef().getService());
        Validation.name("id", u.getRef().getId());
        if (u.hasWeight()) {
          Validation.weight(u.getWeight());
        }
        if (u.getRestoreWeight() && u.hasWeight()) {
          throw LodestarException.invalid("restoreWeight", "either set a weight or restore the registered one, not both");
        }
        if (!u.hasWeight() && !u.hasIsolated() && !u.getRestoreWeight()) {
          throw LodestarException.invalid("weight", "nothing to change: set weight or isolated, or restoreWeight");
        }
      }
      case SET_HEALTH, DEREGISTER_OWNED -> { }
      case KIND_NOT_SET -> throw LodestarException.invalid("kind", "empty command");
      default -> throw LodestarException.invalid("kind", "unknown command " + cmd.getKindCase());
    }
  }

  public static void validateInstance(Instance i) {
    Validation.name("namespace", i.getNamespace());
    Validation.name("service", i.getService());
    Validation.name("id", i.getId());
    Validation.host(i.getHost());
    Validation.port(i.getPort());
    if (i.hasWeight()) {
      Validation.weight(i.getWeight());
    }
    Validation.metadata("metadata", i.getMetadataMap());
    if (i.getProtocol().length() > Limits.MAX_PROTOCOL_LENGTH) {
      throw LodestarException.invalid("protocol", "protocol must have at most " + Limits.MAX_PROTOCOL_LENGTH
          + " characters");
    }
    Validation.tags("tags", i.getTagsList());
    if (i.getCheckId().length() > Validation.MAX_CHECK_ID) {
      throw LodestarException.invalid("checkId", "checkId must have at most " + Validation.MAX_CHECK_ID + " characters");
    }
    if (i.getRemoveAfterSeconds() > Validation.MAX_REMOVE_AFTER_SECONDS) {
      throw LodestarException.invalid("removeAfterSeconds",
          "removeAfterSeconds must be at most " + Validation.MAX_REMOVE_AFTER_SECONDS);
    }
    if (i.getEphemeral()) {
      if (i.getTtlSeconds() != 0) { // 0: the default
        Validation.ttlSeconds(i.getTtlSeconds());
      }
      if (i.hasCheck()) {
        throw LodestarException.invalid("check", "active checks are for persistent instances; ephemeral ones heartbeat");
      }
    } else if (i.hasCheck()) {
      var c = i.getCheck();
      if (c.getKindCase() == io.lodestar.api.v1.HealthCheck.KindCase.KIND_NOT_SET) {
        throw LodestarException.invalid("check", "check needs tcp or http");
      }
      if (c.hasHttp() && !c.getHttp().getUrl().isEmpty()) {
        String url = c.getHttp().getUrl();
        if (!(url.startsWith("http://") || url.startsWith("https://")) || url.length() > 2048) {
          throw LodestarException.invalid("check.http.url", "check.http.url must be an http:// or https:// URL");
        }
      } else if (c.hasHttp() && !c.getHttp().getPath().startsWith("/")) {
        throw LodestarException.invalid("check.http.path", "check.http.path must start with /");
      }
      if (c.hasTcp() && !c.getTcp().getAddress().isEmpty() && c.getTcp().getAddress().lastIndexOf(':') < 1) {
        throw LodestarException.invalid("check.tcp.address", "check.tcp.address must be host:port");
      }
      if (c.getIntervalSeconds() > Limits.MAX_CHECK_INTERVAL_SECONDS) {
        throw LodestarException.invalid("check.intervalSeconds", "check.intervalSeconds must be within 1–"
            + Limits.MAX_CHECK_INTERVAL_SECONDS);
      }
      if (c.getTimeoutSeconds() > Limits.MAX_CHECK_TIMEOUT_SECONDS) {
        throw LodestarException.invalid("check.timeoutSeconds", "check.timeoutSeconds must be within 1–"
            + Limits.MAX_CHECK_TIMEOUT_SECONDS);
      }
    }
  }

  // ------------------------------------------------------------------ apply (applier thread)

  /**
   * Applies one command. Deterministic. Throws {@link LodestarException} for a command that does
   * not fit the state, before mutating anything. Call {@link #flush} after a batch.
   */
  public CommandResult apply(Command cmd) {
    if (ignoresRestoreWeight(cmd)) {
      // as a version before level 1 reads it: no such field (refused if it was all the command held)
      cmd = cmd.toBuilder().setUpdateInstance(cmd.getUpdateInstance().toBuilder().clearRestoreWeight()).build();
    }
    validate(cmd);
    long now = cmd.getTimeMs();
    return switch (cmd.getKindCase()) {
      case CREATE_NAMESPACE -> createNamespace(cmd.getCreateNamespace(), now);
      case DELETE_NAMESPACE -> deleteNamespace(cmd.getDeleteNamespace());
      case PUT_SERVICE -> putService(cmd.getPutService(), now);
      case DELETE_SERVICE -> deleteService(cmd.getDeleteService());
      case REGISTER_INSTANCE -> register(cmd.getRegisterInstance(), now);
      case DEREGISTER_INSTANCE -> deregister(cmd.getDeregisterInstance());
      case SET_HEALTH -> setHealth(cmd.getSetHealth());
      case DEREGISTER_OWNED -> deregisterOwned(cmd.getDeregisterOwned());
      case UPDATE_INSTANCE -> update(cmd.getUpdateInstance());
      default -> throw LodestarException.invalid("kind", "unknown command " + cmd.getKindCase());
    };
  }

  /**
   * Whether a command changes soft state only: ephemeral instances, which live on their client's
   * heartbeats and which the client re-asserts after any failure (a new stream registers all of
   * them again). A registration of an ephemeral instance (unless it replaces a persistent one),
   * health transitions of ephemeral instances and the removal of a closed stream's instances are;
   * everything an operator or a deregistration asks for is not. Read against the state before the
   * command applies; an instance it does not find counts as ephemeral (the command then changes
   * nothing for it). Applier thread.
   */
  public boolean softState(Command cmd) {
    return switch (cmd.getKindCase()) {
      case REGISTER_INSTANCE -> {
        Instance in = cmd.getRegisterInstance().getInstance();
        yield in.getEphemeral() && ephemeralOrAbsent(in.getNamespace(), in.getService(), in.getId());
      }
      case SET_HEALTH -> {
        for (SetHealth.Change c : cmd.getSetHealth().getChangesList()) {
          if (!ephemeralOrAbsent(c.getRef().getNamespace(), c.getRef().getService(), c.getRef().getId())) {
            yield false;
          }
        }
        yield true;
      }
      case DEREGISTER_OWNED -> {
        OpenSet<StoredInstance> mine = owned.get(cmd.getDeregisterOwned().getOwner());
        if (mine != null) {
          for (StoredInstance i : mine.toList()) {
            if (!ephemeralOrAbsent(i.service().namespace(), i.service().service(), i.id())) {
              yield false;
            }
          }
        }
        yield true;
      }
      default -> false;
    };
  }

  private boolean ephemeralOrAbsent(String ns, String svc, String id) {
    ServiceState s = services.get(new ServiceKey(ns, svc));
    StoredInstance i = s == null ? null : s.instances.get(id);
    return i == null || i.ephemeral();
  }

  /**
   * Moves the revision counter {@code by} ahead, so that every later change takes a revision no
   * client can have seen. A single node that acknowledged ephemeral changes before syncing them
   * calls it when it starts after a crash that may have lost them: their revisions must never be
   * given to other changes. Not a command: the node persists the state with a snapshot at once.
   */
  public void skipRevisions(long by) {
    revision += by;
  }

  private CommandResult createNamespace(CreateNamespace c, long now) {
    Namespace existing = namespaces.get(c.getName());
    if (existing != null) {
      throw new LodestarException(Code.ALREADY_EXISTS, "namespace " + c.getName() + " already exists", "name");
    }
    Namespace ns = Namespace.newBuilder().setName(c.getName()).setDescription(c.getDescription())
        .setCreatedAtMs(now).build();
    namespaces.put(ns.getName(), ns);
    return CommandResult.newBuilder().setNamespace(ns).build();
  }

  private CommandResult deleteNamespace(DeleteNamespace c) {
    String name = c.getName();
    if (!namespaces.containsKey(name)) {
      throw LodestarException.notFound("namespace " + name + " does not exist");
    }
    if (DEFAULT_NAMESPACE.equals(name)) {
      throw new LodestarException(Code.FAILED_PRECONDITION, "the default namespace cannot be deleted", "name");
    }
    List<ServiceState> inNs = new ArrayList<>();
    for (ServiceState s : services.values()) {
      if (s.key.namespace().equals(name)) {
        if (!s.instances.isEmpty()) {
          throw new LodestarException(Code.FAILED_PRECONDITION,
              "namespace " + name + " is not empty: service " + s.key.service() + " has instances", "name");
        }
        inNs.add(s);
      }
    }
    for (ServiceState s : inNs) {
      removeService(s);
    }
    namespaces.remove(name);
    return CommandResult.getDefaultInstance();
  }

  private CommandResult putService(PutService p, long now) {
    requireNamespace(p.getNamespace());
    ServiceState s = serviceFor(p.getNamespace(), p.getName(), now);
    ServiceInfo info = s.info.toBuilder().clearMetadata().putAllMetadata(p.getMetadataMap())
        .setProtectThreshold(p.getProtectThreshold()).build();
    if (!info.equals(s.info)) {
      s.info = info;
      s.infoChanged = true;
      bump(s);
    }
    return CommandResult.newBuilder().setService(s.info.toBuilder().setRevision(s.revision)).build();
  }

  private CommandResult deleteService(DeleteService d) {
    ServiceState s = services.get(new ServiceKey(d.getNamespace(), d.getName()));
    if (s == null) {
      throw LodestarException.notFound("service " + d.getNamespace() + "/" + d.getName() + " does not exist");
    }
    if (!s.instances.isEmpty()) {
      throw new LodestarException(Code.FAILED_PRECONDITION,
          "service " + s.key + " still has " + s.instances.size() + " instances", "service");
    }
    removeService(s);
    return CommandResult.getDefaultInstance();
  }

  private CommandResult register(RegisterInstance r, long now) {
    Instance in = r.getInstance();
    requireNamespace(in.getNamespace());
    ServiceState s = serviceFor(in.getNamespace(), in.getService(), now);
    Instance old = rendered(s, in.getId());
    Instance.Builder b = registered(s, r, old, now, operatorWeightsHold);
    if (old != null) {
      // A re-assertion of what is already there changes nothing: no revision, no push.
      Instance same = b.setRevision(old.getRevision()).build();
      if (same.equals(old)) {
        return CommandResult.newBuilder().setInstance(old).build();
      }
      unown(s.key, old.getId(), old.getOwner());
    }
    long rev = bump(s);
    Instance stored = b.setRevision(rev).build();
    putInstance(s, stored, old == null);
    return CommandResult.newBuilder().setInstance(stored).build();
  }

  /** What registering {@code r} stores, but its revision: the rules of {@link #register}. */
  private static Instance.Builder registered(ServiceState s, RegisterInstance r, Instance old, long now,
      boolean operatorWeightsHold) {
    Instance in = r.getInstance();
    // the stored form shares repeated strings and metadata (StoredInstance); this message is transient
    Instance.Builder b = in.toBuilder().setNamespace(s.key.namespace()).setService(s.key.service());
    // The instance's own weight. A stored form sent back (a lease claimed on another node, a stream
    // re-asserting what it was answered with) carries it beside an operator's, which is not its own.
    int own = operatorWeightsHold && in.hasRegisteredWeight() ? in.getRegisteredWeight()
        : in.hasWeight() ? in.getWeight() : DEFAULT_WEIGHT;
    b.setWeight(own).clearRegisteredWeight();
    // An operator's weight is the operator's, as isolation is: a re-registration (an SDK
    // reconnecting, an app restarting) records its own weight beside it and does not undo a drain.
    if (operatorWeightsHold && old != null && old.hasRegisteredWeight()) {
      b.setRegisteredWeight(own).setWeight(old.getWeight());
    }
    boolean startsUnhealthy = r.getInitialHealth() == HealthStatus.UNHEALTHY;
    if (in.getEphemeral() && in.getTtlSeconds() == 0) {
      b.setTtlSeconds(DEFAULT_TTL_SECONDS);
    }
    if (startsUnhealthy) {
      // a check that must pass first (Consul's start critical); re-registering keeps what it was
      b.setHealth(old != null ? old.getHealth() : HealthStatus.UNHEALTHY);
    } else if (in.getEphemeral()) {
      b.setHealth(HealthStatus.HEALTHY);  // registering is a sign of life
    } else if (old != null && !old.getEphemeral() && old.getCheck().equals(in.getCheck())) {
      b.setHealth(old.getHealth());       // keep what the probe found
    } else {
      b.setHealth(HealthStatus.HEALTHY);
    }
    b.setRegisteredAtMs(old != null ? old.getRegisteredAtMs() : now);
    // Isolation is the operator's, not the registrant's: an SDK re-asserting its instance after a
    // reconnect must not put an isolated instance back into discovery.
    b.setIsolated(old != null && old.getIsolated());
    return b;
  }

  /**
   * True when applying {@code r} now would change nothing: the instance is held exactly as it
   * would be stored (same spec, owner and lease holder, healthy), so {@link #register} would
   * answer with it as it is. Any thread: a node asks before it logs a re-assertion, so that an SDK
   * re-asserting what it already holds costs no log entry. The answer holds for the state as read;
   * the caller orders it against its own writes still in flight.
   */
  public boolean unchangedBy(RegisterInstance r) {
    Instance in = r.getInstance();
    ServiceState s = services.get(new ServiceKey(in.getNamespace(), in.getService()));
    Instance old = s == null ? null : rendered(s, in.getId());
    return old != null && registered(s, r, old, 0, operatorWeightsHold).setRevision(old.getRevision()).build().equals(old);
  }

  private CommandResult deregister(DeregisterInstance d) {
    ServiceState s = services.get(new ServiceKey(d.getNamespace(), d.getService()));
    Instance old = s == null ? null : rendered(s, d.getId());
    if (old == null) {
      throw LodestarException.notFound("instance " + d.getId() + " of " + d.getNamespace() + "/" + d.getService()
          + " does not exist");
    }
    removeInstance(s, old, false);
    return CommandResult.newBuilder().setInstance(old).build();
  }

  private CommandResult update(UpdateInstance u) {
    InstanceRef ref = u.getRef();
    ServiceState s = services.get(new ServiceKey(ref.getNamespace(), ref.getService()));
    Instance old = s == null ? null : rendered(s, ref.getId());
    if (old == null) {
      throw LodestarException.notFound("instance " + ref.getId() + " of " + ref.getNamespace() + "/"
          + ref.getService() + " does not exist");
    }
    Instance.Builder b = old.toBuilder();
    if (u.hasWeight() && !operatorWeightsHold) {
      b.setWeight(u.getWeight());
    } else if (u.hasWeight()) {
      // the instance's own weight is kept aside while the operator's is in force
      b.setRegisteredWeight(old.hasRegisteredWeight() ? old.getRegisteredWeight() : old.getWeight())
          .setWeight(u.getWeight());
    } else if (u.getRestoreWeight() && old.hasRegisteredWeight()) {
      b.setWeight(old.getRegisteredWeight()).clearRegisteredWeight();
    }
    if (u.hasIsolated()) {
      b.setIsolated(u.getIsolated());
    }
    if (b.build().equals(old)) {
      return CommandResult.newBuilder().setInstance(old).build();  // no change: no revision, no push
    }
    Instance stored = b.setRevision(bump(s)).build();
    putInstance(s, stored, false);
    return CommandResult.newBuilder().setInstance(stored).build();
  }

  private CommandResult setHealth(SetHealth h) {
    int applied = 0;
    for (SetHealth.Change c : h.getChangesList()) {
      ServiceState s = services.get(new ServiceKey(c.getRef().getNamespace(), c.getRef().getService()));
      StoredInstance old = s == null ? null : s.instances.get(c.getRef().getId());
      if (old == null) {
        continue;  // raced with a deregistration: nothing to do
      }
      if (c.getRemove()) {
        removeInstance(s, old, true);
        applied++;
      } else if (old.health() != c.getStatus()) {
        long rev = bump(s);
        putInstance(s, old.toInstance().toBuilder().setHealth(c.getStatus()).setRevision(rev).build(), false);
        applied++;
      }
    }
    return CommandResult.newBuilder().setCount(applied).build();
  }

  private CommandResult deregisterOwned(DeregisterOwned d) {
    OpenSet<StoredInstance> mine = owned.get(d.getOwner());
    int n = 0;
    if (mine != null) {
      // in key order, never the set's hash order: that depends on the set's history, which a node
      // restored from a snapshot does not share, and the order decides the revisions
      List<InstanceKey> inOrder = new ArrayList<>();
      mine.forEach(i -> inOrder.add(new InstanceKey(i.service(), i.id())));
      inOrder.sort(InstanceKey.ORDER);
      for (InstanceKey k : inOrder) {
        ServiceState s = services.get(k.service());
        StoredInstance old = s == null ? null : s.instances.get(k.id());
        if (old != null) {
          removeInstance(s, old, false);
          n++;
        }
      }
      owned.remove(d.getOwner());
    }
    return CommandResult.newBuilder().setCount(n).build();
  }

  // ------------------------------------------------------------------ governance (applier thread)

  /**
   * Replaces a service's own governance rules, creating the service if needed. A change bumps the
   * service's revision and marks its info changed, so subscribers get the rules with the next push.
   */
  public void setServiceRules(String namespace, String service, GovernanceRules rules, long now) {
    requireNamespace(namespace);
    ServiceState s = serviceFor(namespace, service, now);
    if (!s.info.getRules().equals(rules)) {
      s.info = s.info.toBuilder().setRules(rules).build();
      s.infoChanged = true;
      bump(s);
    }
  }

  /** Replaces a namespace's default rules; every service of the namespace is re-published. */
  public void setNamespaceRules(String namespace, GovernanceRules rules) {
    Namespace ns = namespaces.get(namespace);
    if (ns == null) {
      throw LodestarException.notFound("namespace " + namespace + " does not exist");
    }
    if (ns.getRules().equals(rules)) {
      return;
    }
    namespaces.put(namespace, ns.toBuilder().setRules(rules).build());
    List<ServiceState> inNs = new ArrayList<>();
    for (ServiceState s : services.values()) {
      if (s.key.namespace().equals(namespace)) {
        inNs.add(s);
      }
    }
    inNs.sort((x, y) -> x.key.compareTo(y.key));  // deterministic revisions
    for (ServiceState s : inNs) {
      s.infoChanged = true;
      bump(s);
    }
  }

  // ------------------------------------------------------------------ batch end (applier thread)

  /** Publishes new views for the services changed since the last flush and tells listeners. */
  public void flush() {
    if (dirty.isEmpty()) {
      return;
    }
    List<ServiceState> changed = new ArrayList<>(dirty);
    dirty.clear();
    for (ServiceState s : changed) {
      long previous = s.view == null ? 0 : s.view.revision();
      // Empty because the last instances' leases expired, with no deregistration among the
      // removals: SDKs keep their last list rather than lose a whole service to a partition.
      boolean emptiedByExpiry = s.instances.isEmpty()
          && (s.expiryRemovals || s.otherRemovals ? s.expiryRemovals && !s.otherRemovals : s.view.emptiedByExpiry());
      s.expiryRemovals = false;
      s.otherRemovals = false;
      ServiceView view = ServiceView.ofStored(s.key, effectiveInfo(s).toBuilder().setRevision(s.revision).build(),
          s.revision, inOrder(s), emptiedByExpiry);
      s.view = view;
      ServiceChange change = new ServiceChange(s.resetBase ? 0 : previous, view,
          List.copyOf(s.pendingUpserts.values()), List.copyOf(s.pendingRemoved), s.infoChanged, s.deleted,
          s.unboundRemovals);
      s.unboundRemovals = false;
      s.pendingUpserts.clear();
      s.pendingRemoved.clear();
      s.infoChanged = false;
      s.resetBase = false;
      for (RegistryListener l : listeners) {
        l.onServiceChanged(change);
      }
    }
  }

  // ------------------------------------------------------------------ snapshots

  /** The whole state, in a deterministic order. Call on the applier thread. */
  public RegistrySnapshot snapshot() {
    RegistrySnapshot.Builder b = RegistrySnapshot.newBuilder().setRevision(revision);
    new TreeMap<>(namespaces).values().forEach(b::addNamespaces);
    List<ServiceState> sortedServices = new ArrayList<>(services.values());
    sortedServices.sort((x, y) -> x.key.compareTo(y.key));
    for (ServiceState s : sortedServices) {
      b.addServices(s.info.toBuilder().setRevision(s.revision));
      for (StoredInstance i : sorted(s.instances)) {
        b.addInstances(i.toInstance());
      }
    }
    return b.build();
  }

  /**
   * What a snapshot of the registry holds, captured cheaply on the applier thread: the services
   * with their revisions and, per service, its instances sorted by id. The instances are the
   * registry's own immutable entries, not copies, so a large registry is rendered to its wire form
   * one instance at a time by whoever writes the snapshot, on any thread, rather than as a second
   * whole copy of the state at once ({@link io.lodestar.core.StreamedSnapshot}). The one mutable
   * part of an entry, this node's lease ({@link StoredInstance}), is never rendered, so a lease
   * renewed while a capture is written leaves its bytes as captured.
   */
  public record Captured(long revision, List<Namespace> namespaces, List<ServiceInfo> services,
      List<StoredInstance[]> instances) {}

  /** See {@link Captured}; the same content and order as {@link #snapshot()}. Call on the applier thread. */
  public Captured capture() {
    List<ServiceState> sortedServices = new ArrayList<>(services.values());
    sortedServices.sort((x, y) -> x.key.compareTo(y.key));
    List<ServiceInfo> infos = new ArrayList<>(sortedServices.size());
    List<StoredInstance[]> instances = new ArrayList<>(sortedServices.size());
    for (ServiceState s : sortedServices) {
      infos.add(s.info.toBuilder().setRevision(s.revision).build());
      instances.add(sorted(s.instances));
    }
    return new Captured(revision, List.copyOf(new TreeMap<>(namespaces).values()), infos, instances);
  }

  /** Replaces the whole state. Listeners then see every service with no usable base revision. */
  public void restore(RegistrySnapshot snap) {
    Restore r = beginRestore(snap.getNamespacesList(), snap.getServicesList());
    snap.getInstancesList().forEach(r::add);
    r.finish(snap.getRevision());
  }

  /**
   * Replaces the whole state with the namespaces and services given (every instance is dropped);
   * the instances then come one at a time, so that a snapshot read from a file need not be held
   * whole. Applier thread (or before it starts); nothing is published before {@link Restore#finish}.
   */
  public Restore beginRestore(List<Namespace> namespaceList, List<ServiceInfo> serviceList) {
    for (ServiceState s : services.values()) {
      s.deleted = true;
      s.resetBase = true;
      s.instances.clear();
      dirty.add(s);
    }
    services.clear();
    serviceCounts.clear();
    owned.clear();
    instanceCount = 0;
    namespaces.clear();
    namespaces.put(DEFAULT_NAMESPACE, Namespace.newBuilder().setName(DEFAULT_NAMESPACE).build());
    // a snapshot taken before rule enumerations were proto enums holds them as strings
    namespaceList.forEach(n -> namespaces.put(n.getName(), io.lodestar.core.governance.LegacyRules.upgrade(n)));
    for (ServiceInfo stored : serviceList) {
      ServiceInfo info = io.lodestar.core.governance.LegacyRules.upgrade(stored);
      ServiceState s = new ServiceState(new ServiceKey(info.getNamespace(), info.getName()), info);
      s.revision = info.getRevision();
      s.resetBase = true;
      services.put(s.key, s);
      serviceCounts.merge(s.key.namespace(), 1, Integer::sum);
      dirty.add(s);
    }
    return new Restore();
  }

  /** A restore under way: see {@link #beginRestore}. */
  public final class Restore {
    private int count;

    private Restore() {}

    /** One instance of the snapshot; its service must have been given to {@link #beginRestore}. */
    public void add(Instance i) {
      ServiceState s = services.get(new ServiceKey(i.getNamespace(), i.getService()));
      if (s == null) {
        throw new IllegalStateException("snapshot has an instance of an unknown service: " + i.getService());
      }
      StoredInstance stored = StoredInstance.of(s.key, i);
      s.instances.put(stored);
      own(stored);
      count++;
    }

    /** Sets the revision and publishes the restored state. */
    public void finish(long snapshotRevision) {
      instanceCount = count;
      revision = snapshotRevision;
      flush();
    }
  }

  // ------------------------------------------------------------------ internals

  private ServiceState serviceFor(String ns, String name, long now) {
    ServiceKey key = new ServiceKey(ns, name);
    ServiceState s = services.get(key);
    if (s == null) {
      s = new ServiceState(key, ServiceInfo.newBuilder().setNamespace(ns).setName(name).setCreatedAtMs(now).build());
      s.infoChanged = true;
      services.put(key, s);
      serviceCounts.merge(ns, 1, Integer::sum);
      bump(s);
    }
    return s;
  }

  /** The info views and pushes carry: the service's own rules, completed by its namespace's defaults. */
  private ServiceInfo effectiveInfo(ServiceState s) {
    Namespace ns = namespaces.get(s.key.namespace());
    if (ns == null || !ns.hasRules()) {
      return s.info;
    }
    return s.info.toBuilder().setRules(RuleKind.effective(s.info.getRules(), ns.getRules())).build();
  }

  private long bump(ServiceState s) {
    long rev = ++revision;
    s.revision = rev;
    dirty.add(s);
    return rev;
  }

  /** The stored instance as a message, or null. */
  private static Instance rendered(ServiceState s, String id) {
    StoredInstance i = s.instances.get(id);
    return i == null ? null : i.toInstance();
  }

  private void putInstance(ServiceState s, Instance i, boolean added) {
    StoredInstance next = StoredInstance.of(s.key, i);
    next.carryLeaseFrom(s.instances.get(i.getId()));
    StoredInstance prev = s.instances.put(next);
    if (prev == null) {
      instanceCount++;
    } else {
      next.catchUpLease(prev); // a heartbeat that renewed prev while it was being replaced
    }
    s.pendingUpserts.put(i.getId(), i);
    s.pendingRemoved.remove(i.getId());
    if (added || !i.getOwner().isEmpty()) {
      own(next);
    }
  }

  /** @param expired removed because its lease expired (SetHealth), not deregistered */
  private void removeInstance(ServiceState s, Instance old, boolean expired) {
    removeInstance(s, s.instances.get(old.getId()), expired);
  }

  private void removeInstance(ServiceState s, StoredInstance old, boolean expired) {
    if (expired) {
      s.expiryRemovals = true;
    } else {
      s.otherRemovals = true;
    }
    s.instances.remove(old.id());
    SharedHeartbeat keepAlive = old.leaseKeepAlive();
    if (keepAlive != null) {
      keepAlive.leaseChanged(); // after the removal: the stream that looks again finds it gone
    } else if (old.ephemeral()) {
      s.unboundRemovals = true;
    }
    instanceCount--;
    s.pendingUpserts.remove(old.id());
    s.pendingRemoved.add(old.id());
    unown(s.key, old.id(), old.owner());
    bump(s);
  }

  private void removeService(ServiceState s) {
    if (services.remove(s.key) != null) {
      serviceCounts.computeIfPresent(s.key.namespace(), (ns, n) -> n == 1 ? null : n - 1);
    }
    s.deleted = true;
    bump(s);
  }

  /** Indexes (or re-indexes: the element with its service and id is replaced) an owned instance. */
  private void own(StoredInstance i) {
    if (!i.owner().isEmpty()) {
      owned.computeIfAbsent(i.owner(), o -> new OpenSet<>(Registry::ownedHash,
          (a, b) -> a.sameId(b) && a.service().equals(b.service()))).put(i);
    }
  }

  private void unown(ServiceKey service, String id, String owner) {
    if (!owner.isEmpty()) {
      OpenSet<StoredInstance> mine = owned.get(owner);
      if (mine != null) {
        mine.remove(ownedHash(service, id.hashCode()), x -> x.idEquals(id) && x.service().equals(service));
        if (mine.isEmpty()) {
          owned.remove(owner);
        }
      }
    }
  }

  private static int ownedHash(StoredInstance i) {
    return ownedHash(i.service(), i.idHash());
  }

  private static int ownedHash(ServiceKey service, int idHash) {
    return 31 * service.hashCode() + idHash;
  }

  /**
   * The service's instances by id for its new view. A batch changes a few instances of a service
   * (W1: about five of a hundred), so the previous view's order with those changes applied by
   * binary search costs far less than sorting every instance again, which flush did per changed
   * service per batch. Sorts afresh when there is no usable previous order (a restore, a view
   * built from messages), when much changed, or if the result does not add up.
   */
  private static StoredInstance[] inOrder(ServiceState s) {
    StoredInstance[] prev = s.resetBase || s.view == null ? null : s.view.storedArrayOrNull();
    int changes = s.pendingUpserts.size() + s.pendingRemoved.size();
    if (prev == null || changes * 8 > prev.length) {
      return sorted(s.instances);
    }
    StoredInstance[] next = applyChanges(prev, s);
    return next != null ? next : sorted(s.instances);
  }

  /** {@code prev} with this batch's removals and upserts applied in order, or null if it does not match the state. */
  private static StoredInstance[] applyChanges(StoredInstance[] prev, ServiceState s) {
    // positions in prev to drop (removed or replaced) and the entries to put in, both sorted by id
    int[] drop = new int[s.pendingUpserts.size() + s.pendingRemoved.size()];
    int drops = 0;
    for (String id : s.pendingRemoved) {
      int at = indexOf(prev, id);
      if (at >= 0) {
        drop[drops++] = at;
      }
    }
    StoredInstance[] put = new StoredInstance[s.pendingUpserts.size()];
    int puts = 0;
    for (String id : s.pendingUpserts.keySet()) {
      StoredInstance now = s.instances.get(id);
      if (now == null) {
        return null;
      }
      put[puts++] = now;
      int at = indexOf(prev, id);
      if (at >= 0) {
        drop[drops++] = at;
      }
    }
    java.util.Arrays.sort(drop, 0, drops);
    java.util.Arrays.sort(put, 0, puts, BY_ID);
    int size = prev.length - drops + puts;
    if (size != s.instances.size()) {
      return null;
    }
    // where each put goes: before the first of prev not below it (a replaced one is dropped), found
    // by binary search, so a batch costs O(k log n) comparisons, not one per instance of the
    // service; the runs of prev between drops and puts are copied whole
    int[] at = new int[puts];
    for (int u = 0; u < puts; u++) {
      at[u] = lowerBound(prev, put[u], u == 0 ? 0 : at[u - 1]);
    }
    StoredInstance[] out = new StoredInstance[size];
    int n = 0;
    int p = 0;
    int d = 0;
    int u = 0;
    while (p < prev.length || u < puts) {
      int stop = Math.min(u < puts ? at[u] : prev.length, d < drops ? drop[d] : prev.length);
      if (stop < p) {
        return null; // a position dropped twice: not this state's changes
      }
      System.arraycopy(prev, p, out, n, stop - p);
      n += stop - p;
      p = stop;
      if (u < puts && at[u] == p) {
        out[n++] = put[u++];
      } else if (d < drops && drop[d] == p) {
        d++;
        p++;
      }
    }
    return out;
  }

  /** The first position at or after {@code from} whose instance's id is not below {@code x}'s. */
  private static int lowerBound(StoredInstance[] sorted, StoredInstance x, int from) {
    int lo = from;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (BY_ID.compare(sorted[mid], x) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static int indexOf(StoredInstance[] sorted, String id) {
    int lo = 0;
    int hi = sorted.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = sorted[mid].compareIdTo(id);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -1;
  }

  private static final java.util.Comparator<StoredInstance> BY_ID = StoredInstance::compareIds;

  private static StoredInstance[] sorted(InstanceTable instances) {
    StoredInstance[] out = instances.toArray();
    java.util.Arrays.sort(out, BY_ID);
    return out;
  }

  private record InstanceKey(ServiceKey service, String id) {
    static final java.util.Comparator<InstanceKey> ORDER =
        java.util.Comparator.comparing(InstanceKey::service).thenComparing(InstanceKey::id);
  }

  /** Mutable per-service state, touched by the applier thread only. */
  private static final class ServiceState {
    final ServiceKey key;
    // compact; read from any thread by stored() and storedIn(), written by the applier only
    final InstanceTable instances = new InstanceTable();
    final Map<String, Instance> pendingUpserts = new LinkedHashMap<>();
    final Set<String> pendingRemoved = new LinkedHashSet<>();
    volatile ServiceInfo info;  // written by the applier; read by ownRules() on any thread
    long revision;
    boolean infoChanged;
    boolean resetBase;
    boolean unboundRemovals; // since the last flush (see ServiceChange)
    boolean deleted;
    // what removed instances since the last flush: lease expiry, or anything else
    boolean expiryRemovals;
    boolean otherRemovals;
    volatile ServiceView view;

    ServiceState(ServiceKey key, ServiceInfo info) {
      this.key = key;
      this.info = info;
      this.view = new ServiceView(key, info, 0, List.of());
    }
  }
}
