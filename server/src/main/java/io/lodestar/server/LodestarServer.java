package io.lodestar.server;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import com.linecorp.armeria.server.prometheus.PrometheusExpositionService;
import io.lodestar.core.StateMachine;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.server.config.ConfigClients;
import io.lodestar.server.config.ConfigPublishMeter;
import io.lodestar.server.config.ConfigPushHub;
import io.lodestar.server.console.Console;
import io.lodestar.server.config.ConfigRestService;
import io.lodestar.server.config.ConfigSessionHandler;
import io.lodestar.server.config.GrayRestService;
import io.lodestar.server.config.SecretBox;
import io.lodestar.server.config.SecretKeyCheck;
import io.lodestar.server.consul.ConsulApi;
import io.lodestar.server.prometheus.PrometheusSdService;
import io.lodestar.server.governance.QuotaService;
import io.lodestar.server.governance.QuotaSessionHandler;
import io.lodestar.server.governance.RulesRestService;
import io.lodestar.server.http.Routes;
import io.lodestar.server.http.ErrorHandler;
import io.lodestar.server.naming.ExpiryProtection;
import io.lodestar.server.naming.HealthChecker;
import io.lodestar.server.naming.NamingSessionHandler;
import io.lodestar.server.telemetry.CallStatsSessionHandler;
import io.lodestar.server.telemetry.CallStatsStore;
import io.lodestar.server.telemetry.ClusterTelemetry;
import io.lodestar.server.telemetry.EdgeMetrics;
import io.lodestar.server.telemetry.TopologyRestService;
import io.lodestar.server.naming.NamingRestService;
import io.lodestar.server.naming.PushHub;
import io.lodestar.server.session.SessionService;
import io.lodestar.api.v1.Welcome;
import io.lodestar.server.storage.ClusterConfig;
import io.lodestar.server.storage.ClusterSecret;
import io.lodestar.server.storage.CommandLog;
import io.lodestar.server.storage.LocalLog;
import io.lodestar.server.storage.LogStatus;
import io.lodestar.server.storage.RaftLog;
import io.lodestar.server.xds.AdsService;
import io.lodestar.server.xds.XdsHub;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Lodestar node: storage, the state machine, health checks, push fan-out, and one Armeria
 * port serving gRPC, REST, /health and /metrics.
 */
public final class LodestarServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LodestarServer.class);
  public static final int DEFAULT_PORT = 8700;
  public static final int MAX_REQUEST_BYTES = 1 << 20;
  /** Request headers in all (HTTP/1 and HTTP/2), and the HTTP/1 request line with its query. */
  public static final int MAX_HEADER_BYTES = 8192;
  public static final int MAX_REQUEST_LINE_BYTES = 4096;
  /** Config routes take up to 1 MiB of content; the slack lets the handler answer 413 itself at exactly 1 MiB + 1. */
  public static final int MAX_CONFIG_REQUEST_BYTES = ConfigStore.MAX_CONTENT_BYTES + (64 << 10);

  public static Builder builder() {
    return new Builder();
  }

  /** Settings of one node. Validated on {@link #build()}. */
  public static final class Builder {
    private String bind = "127.0.0.1";
    private int port = DEFAULT_PORT;
    private Path dataDir = Path.of("data");
    private int snapshotEvery = 50_000;
    private int writeQueue = io.lodestar.server.storage.LocalLog.DEFAULT_WRITE_QUEUE;
    private ClusterConfig cluster;
    private long raftSegmentBytes = 8L << 20;
    private int consulPort = -1;
    private String datacenter = "dc1";
    private io.lodestar.server.tls.TlsSettings tls = io.lodestar.server.tls.TlsSettings.NONE;
    private io.lodestar.server.limits.ServerLimits limits = io.lodestar.server.limits.ServerLimits.DEFAULT;

    /** Instances per service, services per namespace, streams per client address (docs/security.md). */
    public Builder limits(io.lodestar.server.limits.ServerLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** TLS on the client port and the Consul port (docs/security.md); {@code TlsSettings.NONE} (the default) for none. */
    public Builder tls(io.lodestar.server.tls.TlsSettings tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    private boolean auth;
    private boolean insecure;
    private Boolean metricsOpen;
    private java.io.PrintStream bootstrapOut = System.out;

    /**
     * Requires a token on every surface (docs/security.md); on the first start the node makes an
     * admin token, prints it once and writes it to {@code <data-dir>/bootstrap-token}.
     */
    public Builder auth(boolean auth) {
      this.auth = auth;
      return this;
    }

    /** Allows a non-loopback bind without auth: the operator says the network is trusted. */
    public Builder insecure(boolean insecure) {
      this.insecure = insecure;
      return this;
    }

    /**
     * Whether /metrics answers without a token when auth is on; null (the default): only when
     * bound to loopback.
     */
    public Builder metricsOpen(Boolean open) {
      this.metricsOpen = open;
      return this;
    }

    /** Where the bootstrap token is printed, once; standard output by default. */
    public Builder bootstrapOut(java.io.PrintStream out) {
      this.bootstrapOut = Objects.requireNonNull(out, "bootstrapOut");
      return this;
    }

    /**
     * A second listener (same bind address) serving only the Consul API, for tools hard-wired to
     * Consul's port; -1 (the default) for none, 0 to pick a free one. The Consul API is always
     * served on the client port too.
     */
    public Builder consulPort(int port) {
      if (port < -1 || port > 65535) {
        throw new IllegalArgumentException("consulPort must be within 0–65535, got " + port);
      }
      this.consulPort = port;
      return this;
    }

    /** The datacenter name the Consul API reports; default dc1. */
    public Builder datacenter(String datacenter) {
      this.datacenter = io.lodestar.core.Validation.name("datacenter", datacenter);
      return this;
    }

    private java.util.function.LongSupplier nanoClock = HealthChecker.SYSTEM_CLOCK;
    private ExpiryProtection expiryProtection = ExpiryProtection.DEFAULT;

    /**
     * The clock leases and probes are timed by (nanoseconds, like {@link System#nanoTime}). Tests
     * pass a manual one and drive health with {@link LodestarServer#scanHealth()}.
     */
    public Builder nanoClock(java.util.function.LongSupplier nanoClock) {
      this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /** When expiry of many leases at once pauses removal; {@link ExpiryProtection#OFF} never pauses. */
    public Builder expiryProtection(ExpiryProtection protection) {
      this.expiryProtection = Objects.requireNonNull(protection, "expiryProtection");
      return this;
    }

    private boolean walTruncateDamaged;

    /**
     * Lets a single node start when the last segment of its write-ahead log is damaged in the
     * middle, by cutting it there and losing the records after the damage (logged at WARN). Off by
     * default: such a node refuses to start and names the file and byte (docs/operations.md).
     */
    public Builder walTruncateDamaged(boolean truncate) {
      this.walTruncateDamaged = truncate;
      return this;
    }

    private boolean syncEphemeral;
    private int holdFeatureLevel = StateMachine.FEATURE_LEVEL;

    /**
     * The highest feature level this member agrees to ({@link io.lodestar.server.storage.FeatureLevels}):
     * below this version's, it holds the state there so that every member can still go back to a
     * version that knows only that level. Default: this version's level.
     */
    public Builder holdFeatureLevel(int level) {
      if (level < 0 || level > StateMachine.FEATURE_LEVEL) {
        throw new IllegalArgumentException("--hold-feature-level must be 0 to " + StateMachine.FEATURE_LEVEL
            + " (the level this version knows), not " + level);
      }
      this.holdFeatureLevel = level;
      return this;
    }

    /**
     * A single node syncs ephemeral registrations before it answers them too, as every other write.
     * Off by default: they are answered once written to the log file (they survive kill -9 of the
     * server; a crash of the machine can lose the last moment's, which their clients re-assert).
     */
    public Builder syncEphemeral(boolean sync) {
      this.syncEphemeral = sync;
      return this;
    }

    private int maxLongPollsPerClient = io.lodestar.server.http.LongPolls.DEFAULT_MAX_PER_CLIENT;
    private Path clusterSecretFile;

    /**
     * The cluster secret: the same file on every member (docs/operations.md). Members derive the
     * secret-config key from it, so a cluster has one key and no member makes its own.
     */
    public Builder clusterSecretFile(Path file) {
      this.clusterSecretFile = file;
      return this;
    }

    /** How many REST long polls (naming, and config, each) one client address may hold at once. */
    public Builder maxLongPollsPerClient(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxLongPollsPerClient must be at least 1");
      }
      this.maxLongPollsPerClient = max;
      return this;
    }

    /** Runs as a member of a Raft cluster; null (the default) runs a single node on its local log. */
    public Builder cluster(ClusterConfig cluster) {
      this.cluster = cluster;
      return this;
    }

    /** Size of a Raft log segment; only closed segments are purged after a snapshot. */
    public Builder raftSegmentBytes(long bytes) {
      if (bytes < 64 * 1024) {
        throw new IllegalArgumentException("raftSegmentBytes must be at least 64 KiB");
      }
      this.raftSegmentBytes = bytes;
      return this;
    }

    public Builder bind(String bind) {
      this.bind = Objects.requireNonNull(bind, "bind");
      return this;
    }

    /** The client port; 0 picks a free one. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be within 0–65535, got " + port);
      }
      this.port = port;
      return this;
    }

    public Builder dataDir(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
      return this;
    }

    /** How many logged commands between snapshots. */
    public Builder snapshotEvery(int entries) {
      if (entries < 1) {
        throw new IllegalArgumentException("snapshotEvery must be at least 1");
      }
      this.snapshotEvery = entries;
      return this;
    }

    /**
     * How many writes may wait to be logged ({@code --write-queue}); new work is refused with a
     * retry hint once three-quarters of it is taken (docs/operations.md, "Overload").
     */
    public Builder writeQueue(int writes) {
      if (writes < 4) {
        throw new IllegalArgumentException("writeQueue must be at least 4");
      }
      this.writeQueue = writes;
      return this;
    }

    public LodestarServer build() {
      if (!auth && !insecure && !loopback(bind)) {
        throw new IllegalArgumentException("refusing to serve " + bind + " without --auth: anyone who can reach "
            + "the port could change or delete everything. Add --auth (tokens on every surface), bind to "
            + "127.0.0.1, or pass --insecure if this network is trusted (docs/security.md)");
      }
      if (cluster != null && tls.selfSigned()) {
        throw new IllegalArgumentException("--tls-self-signed makes a different certificate on each node, which the "
            + "other members cannot trust (their calls and, under --tls-client-ca, Raft would fail): give every "
            + "member a certificate from one CA with --tls-cert/--tls-key and that CA as --tls-client-ca "
            + "(docs/security.md#cluster-members)");
      }
      if (auth && cluster != null && clusterSecretFile == null) {
        throw new IllegalArgumentException("--auth in a cluster needs --cluster-secret-file: members prove to each "
            + "other with it that they belong to the cluster, and refuse its internal endpoints to anyone else; "
            + ClusterSecret.HOW_TO_SHARE);
      }
      return new LodestarServer(this);
    }
  }

  /** Whether an address is the loopback interface (a name is resolved). */
  static boolean loopback(String bind) {
    try {
      return java.net.InetAddress.getByName(bind).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /**
   * The node's settings, copied from the builder at {@link Builder#build()} (as Armeria's
   * ServerConfig is): setter calls on the builder afterwards do not reach a running server.
   */
  private record Settings(String bind, int port, Path dataDir, int snapshotEvery, ClusterConfig cluster,
      long raftSegmentBytes, int consulPort, String datacenter, java.util.function.LongSupplier nanoClock,
      ExpiryProtection expiryProtection, io.lodestar.server.tls.TlsSettings tls, int maxLongPollsPerClient,
      Path clusterSecretFile, io.lodestar.server.limits.ServerLimits limits, boolean auth, boolean metricsOpen,
      java.io.PrintStream bootstrapOut, boolean walTruncateDamaged, int writeQueue,
      boolean syncEphemeral, int holdFeatureLevel) {}

  private final Settings config;
  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final StateMachine stateMachine = new StateMachine();
  private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lodestar-notify");
    t.setDaemon(true);
    return t;
  });
  private CommandLog commandLog;
  /** The log as request handlers use it: commands stamped with who made them (audit). */
  private CommandLog writes;
  private io.lodestar.server.auth.Authorizer authorizer;
  private final io.lodestar.server.auth.Revocations revocations = new io.lodestar.server.auth.Revocations();
  private RaftLog raftLog;
  private HealthChecker health;
  private PushHub hub;
  private XdsHub xds;
  private ConfigPushHub configHub;
  private SessionService grpc;
  private Console console;
  private java.util.concurrent.ScheduledExecutorService telemetrySweeper;
  /** How often a cluster's leader checks whether every member knows a higher feature level. */
  private static final long FEATURE_LEVEL_CHECK_SECONDS = 5;
  private Server server;
  private Server consulServer;
  private io.lodestar.server.tls.ServerTls tls;
  private volatile boolean closed;

  private LodestarServer(Builder b) {
    this.config = new Settings(b.bind, b.port, b.dataDir, b.snapshotEvery, b.cluster, b.raftSegmentBytes,
        b.consulPort, b.datacenter, b.nanoClock, b.expiryProtection, b.tls, b.maxLongPollsPerClient,
        b.clusterSecretFile, b.limits, b.auth, b.metricsOpen != null ? b.metricsOpen : loopback(b.bind),
        b.bootstrapOut, b.walTruncateDamaged, b.writeQueue, b.syncEphemeral, b.holdFeatureLevel);
  }

  /** Replays storage, then starts serving; returns once the port answers. */
  public LodestarServer start() {
    long t0 = System.nanoTime();
    new JvmMemoryMetrics().bindTo(meters);
    new JvmGcMetrics().bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);
    new UptimeMetrics().bindTo(meters);
    try {
      io.lodestar.server.storage.OwnerOnly.secure(config.dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create or secure the data directory " + config.dataDir.toAbsolutePath(), e);
    }

    // TLS first: members call each other (and, under mutual TLS, speak Raft) with the node's certificate
    tls = io.lodestar.server.tls.ServerTls.resolve(config.tls, config.dataDir, config.bind);
    io.lodestar.server.tls.PeerTls peerTls = tls == null || config.cluster == null ? null : tls.peers();
    io.lodestar.server.auth.ClusterCredential member = config.clusterSecretFile == null ? null
        : io.lodestar.server.auth.ClusterCredential.derive(
            io.lodestar.server.storage.ClusterSecret.read(config.clusterSecretFile));
    io.lodestar.server.http.PeerHttp peers = new io.lodestar.server.http.PeerHttp(peerTls, member);
    if (config.cluster == null) {
      commandLog = new LocalLog(config.dataDir.resolve("state"), stateMachine, config.snapshotEvery, config.writeQueue,
          meters)
          .truncateDamaged(config.walTruncateDamaged).syncEphemeral(config.syncEphemeral);
    } else {
      raftLog = new RaftLog(config.cluster, config.dataDir.resolve("raft"), stateMachine, config.snapshotEvery,
          config.raftSegmentBytes, config.writeQueue, meters,
          io.lodestar.server.storage.RaftTransport.grpc(config.cluster.self(), peerTls));
      commandLog = raftLog;
    }
    LocalLog local = commandLog instanceof LocalLog l ? l : null;
    // every surface's writes pass the count limits before they are logged
    commandLog = new io.lodestar.server.limits.AdmissionLog(commandLog, stateMachine.registry(), config.limits);
    writes = new io.lodestar.server.auth.AttributedLog(commandLog);
    authorizer = new io.lodestar.server.auth.Authorizer(stateMachine.tokens(), config.auth, member);
    // a revoked token's open streams, polls and feeds end when the revocation applies (docs/security.md)
    stateMachine.tokens().addListener(revocations);
    health = new HealthChecker(stateMachine.registry(), commandLog, config.nanoClock,
        raftLog == null ? HealthChecker.LeaseScope.SINGLE_NODE : clusterLeases(raftLog.cluster()), config.expiryProtection);
    hub = new PushHub(stateMachine.registry(), meters);
    stateMachine.registry().addListener(health);
    stateMachine.registry().addListener(hub);
    // xDS: Envoy and proxyless gRPC get the registry and the rules as LDS/RDS/CDS/EDS (docs/xds.md)
    xds = new XdsHub(stateMachine.registry(), meters);
    stateMachine.registry().addListener(xds);
    // one secret-config key per cluster: a member derives it from the cluster secret, never makes its own
    SecretBox secrets = SecretBox.open(config.dataDir, config.clusterSecretFile, config.cluster == null);
    // a key derived from the cluster secret follows the generation in the replicated state (rotation)
    secrets.followGenerations(stateMachine.configs()::secretKeyGeneration);
    if (config.cluster != null && secrets.keyId() != null) {  // a node without a key has nothing to compare
      SecretKeyCheck.againstPeers(config.cluster.members().stream()
          .filter(m -> !m.id().equals(config.cluster.nodeId())).map(ClusterConfig.Member::clientAddress).toList(),
          secrets, peers);
    }
    ConfigClients configClients = new ConfigClients();
    configHub = new ConfigPushHub(stateMachine.configs(), secrets, configClients, meters);
    stateMachine.configs().addListener(configHub);
    // The bound port is known only once started (port 0 picks one): resolve the address lazily.
    java.util.function.Supplier<String> address = () -> config.bind + ":" + port();
    java.util.function.Supplier<List<String>> members = raftLog == null ? () -> List.of(address.get())
        : raftLog.cluster()::memberClientAddresses;
    // before the log opens: the Consul directory learns the replayed state from the registry's changes
    ConsulApi consul = consulApi(address, members);
    console = new Console(stateMachine.registry(), stateMachine.configs(), configClients, health, meters);
    try {
      commandLog.open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open storage in " + config.dataDir.toAbsolutePath(), e);
    }
    try {
      SecretKeyCheck.againstState(stateMachine.registry(), stateMachine.configs(), secrets);
    } catch (IllegalStateException e) {
      close();
      throw e;
    }
    // a single node is every member: it applies at the level it knows before it serves; a cluster's
    // leader raises the level once every member knows it (checked below, every few seconds)
    io.lodestar.server.storage.FeatureLevels levels = new io.lodestar.server.storage.FeatureLevels(commandLog,
        stateMachine, raftLog == null ? null : raftLog.cluster(), peers, config.holdFeatureLevel);
    levels.raiseAlone();
    meters.gauge("lodestar.feature.level", stateMachine, StateMachine::featureLevel);
    health.start();
    // after the replay, so that a restart does not count the history again
    stateMachine.configs().addListener(new ConfigPublishMeter(meters));
    meters.gauge("lodestar.instances", stateMachine.registry(), r -> r.instanceCount());
    meters.gauge("lodestar.services", stateMachine.registry(), r -> r.allViews().size());
    meters.gauge("lodestar.leases", health, h -> h.leaseCount());
    io.micrometer.core.instrument.FunctionCounter.builder("lodestar.lease.walks", health, h -> h.leaseWalks())
        .description("health scans that walked every lease (the others found nothing due)").register(meters);
    io.micrometer.core.instrument.FunctionCounter.builder("lodestar.lease.safety.catches", health, h -> h.safetyCatches())
        .description("lease transitions found only by the periodic safety walk, late: a missed flag (a bug); 0 normally")
        .register(meters);
    meters.gauge("lodestar.kv.index", stateMachine.kv(), k -> k.index());
    meters.gauge("lodestar.expiry.protection", health, h -> h.expiryPaused() == null ? 0 : 1);

    // cluster rate limits: shares of each global limit, handed out on the SDK stream
    RaftLog raft = raftLog;
    QuotaService quotas = new QuotaService(stateMachine.registry(), System::currentTimeMillis,
        raft == null ? () -> 1 : () -> raft.cluster().members().size());
    // call statistics: in memory per node, never through the log; a query merges every node's
    CallStatsStore callStats = new CallStatsStore(System::currentTimeMillis, CallStatsStore.DEFAULT_RETENTION,
        CallStatsStore.DEFAULT_MAX_EDGES);
    callStats.addListener(new EdgeMetrics(meters));
    meters.gauge("lodestar.call.edges", callStats, CallStatsStore::edgeCount);
    meters.more().counter("lodestar.call.edges.dropped", List.of(), callStats, CallStatsStore::droppedEdges);
    telemetrySweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lodestar-telemetry");
      t.setDaemon(true);
      return t;
    });
    telemetrySweeper.scheduleWithFixedDelay(callStats::sweep, CallStatsStore.SLOT_MS, CallStatsStore.SLOT_MS,
        java.util.concurrent.TimeUnit.MILLISECONDS);
    // the same housekeeping thread: a check that asks the members without waiting for them
    telemetrySweeper.scheduleWithFixedDelay(levels::check, 1, FEATURE_LEVEL_CHECK_SECONDS,
        java.util.concurrent.TimeUnit.SECONDS);
    ClusterTelemetry telemetry = new ClusterTelemetry(callStats, address, members, peers);
    // the SDK stream: one session per client, a handler per domain
    grpc = new SessionService(List.of(new NamingSessionHandler(writes, stateMachine.registry(), health, hub, meters),
        new ConfigSessionHandler(configHub), new QuotaSessionHandler(quotas), new CallStatsSessionHandler(callStats)),
        () -> Welcome.newBuilder().setServerId(address.get())
            .setHeartbeatIntervalMs(NamingSessionHandler.HEARTBEAT_INTERVAL_MS).addAllMembers(members.get()).build(),
        authorizer, revocations, meters);
    // one budget of open streams per client address, for SDK and ADS streams alike
    io.lodestar.server.limits.PerAddressCounter streams =
        new io.lodestar.server.limits.PerAddressCounter(config.limits.maxStreamsPerAddress());
    grpc.limitStreamsPerAddress(streams);
    ClusterRestService clusterRest = new ClusterRestService(raftLog == null ? null : raftLog.cluster(), address, config.dataDir.resolve("backups"),
        this::snapshot, () -> local == null ? 0 : local.lastIndex(), secrets, writes, peers, levels);

    ServerBuilder sb = Server.builder();
    listen(sb, new InetSocketAddress(config.bind, config.port));
    sb.meterRegistry(meters)
        .maxRequestLength(MAX_REQUEST_BYTES)
        // Armeria's defaults, written out because they are limits we document: a larger header is refused with 431
        .http1MaxHeaderSize(MAX_HEADER_BYTES).http2MaxHeaderListSize(MAX_HEADER_BYTES)
        .http1MaxInitialLineLength(MAX_REQUEST_LINE_BYTES)
        // Long polls and SDK streams are long-lived; each REST handler bounds its own wait.
        .requestTimeout(Duration.ZERO)
        .errorHandler(new ErrorHandler())
        // no "server: Armeria/x.y" on every answer: what serves the port is nobody's business
        .disableServerHeader()
        // Refused requests are the client's business: ErrorHandler logs them at DEBUG. Armeria's
        // periodic WARN about exceptions that "didn't reach a LoggingService" is only noise here.
        .unloggedExceptionsReportInterval(Duration.ZERO)
        .gracefulShutdownTimeout(SHUTDOWN_QUIET_PERIOD, SHUTDOWN_TIMEOUT).bossGroupFactory(LodestarServer::acceptThread)
        // Binary protobuf only: the gRPC-JSON marshallers cost seconds of start-up code generation.
        .service(GrpcService.builder().addService(grpc).addService(new AdsService(xds, authorizer, revocations, streams))
            .useBlockingTaskExecutor(false)
            .intercept(new io.lodestar.server.auth.GrpcAuth(authorizer))
            .exceptionHandler(new io.lodestar.server.naming.GrpcErrors())
            .supportedSerializationFormats(GrpcSerializationFormats.PROTO)
            .maxRequestMessageLength(MAX_REQUEST_BYTES).build(), LodestarServer::streamsOfAnyLength);
    // the REST API: routes bound as functions (Routes: no reflection at each start)
    Routes.install(sb, new NamingRestService(stateMachine.registry(), writes, health, notifier, meters,
        config.maxLongPollsPerClient));
    Routes.on(sb, new ConfigRestService(stateMachine.registry(), stateMachine.configs(), writes, secrets,
        configClients, notifier, config.maxLongPollsPerClient, authorizer)).maxRequestLength(MAX_CONFIG_REQUEST_BYTES)
        .install();
    Routes.on(sb, new GrayRestService(stateMachine.registry(), stateMachine.configs(), writes, secrets, configClients))
        .maxRequestLength(MAX_CONFIG_REQUEST_BYTES).install();
    Routes.install(sb, new io.lodestar.server.config.SecretRotation(stateMachine.registry(), stateMachine.configs(),
        writes, secrets));
    Routes.install(sb, new RulesRestService(stateMachine.registry(), writes));
    Routes.install(sb, new TopologyRestService(stateMachine.registry(), callStats, telemetry));
    Routes.install(sb, clusterRest);
    Routes.install(sb, new io.lodestar.server.auth.TokenRestService(stateMachine.tokens(), writes, revocations));
    Routes.install(sb, new io.lodestar.server.auth.AuditRestService(stateMachine.audit()));
    Routes.install(sb, new PrometheusSdService(stateMachine.registry(), authorizer));
    sb
        .decorator(ClusterRestService.consistentReads(commandLog))
        .decorator(io.lodestar.server.http.PathGuard::new)
        // named routes: the service label in /metrics is "health" and "metrics", not a lambda's class
        .route().path("/health").defaultServiceName("health").build(new HealthEndpoint(
            () -> closed ? LogStatus.down("shutting down") : commandLog.status(), health::expiryPaused))
        .route().path("/metrics").defaultServiceName("metrics")
            .build(PrometheusExpositionService.of(meters.getPrometheusRegistry()))
        .decorator(MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("lodestar.http")));
    consul.mount(sb);
    // The web console (docs/console.md); its pages pass the server-wide auth decorator below.
    if (tls != null) {
      console.loopbackClientFactory(tls::loopbackClientFactory);
    }
    console.install(sb, this::port, java.util.function.Function.identity(), authorizer);
    // outermost: every request on the port is authenticated first (docs/security.md)
    sb.decorator(authDecorator());
    server = sb.build();
    server.start().join();
    IdleLoops.letSleep(com.linecorp.armeria.common.CommonPools.workerGroup());
    if (config.consulPort >= 0) {
      // its own listener serving the Consul routes only (the same services, so the same state)
      ServerBuilder cb = Server.builder();
      listen(cb, new InetSocketAddress(config.bind, config.consulPort));
      cb.meterRegistry(meters).requestTimeout(Duration.ZERO).errorHandler(new ErrorHandler())
          .disableServerHeader().unloggedExceptionsReportInterval(Duration.ZERO)
          .gracefulShutdownTimeout(SHUTDOWN_QUIET_PERIOD, SHUTDOWN_TIMEOUT).bossGroupFactory(LodestarServer::acceptThread)
          .decorator(MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("lodestar.consul.http")));
      consul.mount(cb);
      cb.decorator(authDecorator());
      consulServer = cb.build();
      consulServer.start().join();
      log.info("Consul API also on {}://{}:{} (--consul-port)", scheme(), config.bind, consulPort());
    }
    // leases count from here: heartbeats could not reach the node while its storage opened
    health.serving();
    if (config.auth) {
      io.lodestar.server.auth.Bootstrap.ensure(stateMachine.tokens(), commandLog, config.dataDir, config.bootstrapOut);
    }
    log.info("Lodestar ready on {}://{}:{} (gRPC, REST, /metrics on one port{}; data in {}; auth {}) in {} ms", scheme(),
        config.bind, port(), tls == null ? "" : tls.mutual() ? "; TLS with client certificates" : "; TLS only",
        config.dataDir.toAbsolutePath(), config.auth ? "on" : "off", (System.nanoTime() - t0) / 1_000_000);
    return this;
  }

  /**
   * A stop answers every request in flight (up to {@link #SHUTDOWN_TIMEOUT}) and then waits this
   * long without a new one before it closes the connections.
   */
  private static final Duration SHUTDOWN_QUIET_PERIOD = Duration.ofMillis(100);
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(3);

  /**
   * A port's accept thread, as Armeria makes it, except that a stop ends it at once. Armeria stops
   * it with Netty's {@code shutdownGracefully()}, whose fixed two-second quiet period is waited out
   * after the connections are closed and every request is answered, with nothing left to run there
   * (two of a stop's 2.5 s). Armeria shuts down the channel's own group, so the group itself, not a
   * wrapper, carries the shorter period; transports other than epoll and NIO keep Armeria's.
   */
  private static io.netty.channel.EventLoopGroup acceptThread(String name) {
    java.util.concurrent.ThreadFactory thread = r -> new io.netty.util.concurrent.FastThreadLocalThread(r, name);
    io.netty.channel.IoHandlerFactory handler = switch (com.linecorp.armeria.common.Flags.transportType()) {
      case EPOLL -> io.netty.channel.epoll.EpollIoHandler.newFactory();
      case NIO -> io.netty.channel.nio.NioIoHandler.newFactory();
      default -> null;
    };
    if (handler == null) {
      return com.linecorp.armeria.common.util.EventLoopGroups.newEventLoopGroup(1, thread);
    }
    io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, thread, handler) {
      @Override
      public io.netty.util.concurrent.Future<?> shutdownGracefully() {
        return shutdownGracefully(0, SHUTDOWN_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    };
    IdleLoops.letSleep(group); // an accept thread is idle nearly always
    return group;
  }

  /** One listener: plaintext HTTP, or with TLS configured, TLS only (docs/security.md says why). */
  private void listen(ServerBuilder sb, InetSocketAddress address) {
    if (tls == null) {
      sb.port(address, com.linecorp.armeria.common.SessionProtocol.HTTP);
    } else {
      tls.apply(sb, address);
    }
  }

  /** {@code https} when the node serves TLS, else {@code http}. */
  /**
   * The server-wide request limit counts every byte of a request, and a gRPC stream is one
   * request: an SDK or Envoy stream lives for days, so under it a stream was reset (UNKNOWN,
   * RST_STREAM) once it had carried 1 MiB in all, and every reconnect re-sent its registrations
   * into the same limit (issue 11's retry storm). gRPC's own limit stays per message
   * ({@code maxRequestMessageLength}, 1 MiB).
   */
  private static HttpService streamsOfAnyLength(HttpService grpc) {
    return (ctx, req) -> {
      ctx.setMaxRequestLength(0);
      return grpc.serve(ctx, req);
    };
  }

  public String scheme() {
    return tls == null ? "http" : "https";
  }

  private ConsulApi consulApi(java.util.function.Supplier<String> address,
      java.util.function.Supplier<List<String>> members) {
    String nodeName = raftLog == null ? "lodestar" : raftLog.nodeId();
    String nodeAddress = config.bind.equals("0.0.0.0") || config.bind.equals("::") ? "127.0.0.1" : config.bind;
    RaftLog raft = raftLog;
    java.util.function.Supplier<String> leader = raft == null ? address : () -> raft.cluster().members().stream()
        .filter(m -> m.id().equals(raft.leaderId())).map(io.lodestar.server.storage.RaftCluster.Peer::clientAddress)
        .findFirst().orElse("");
    return new ConsulApi(stateMachine, writes, health, notifier, meters, nodeName, nodeAddress,
        config.datacenter, leader, members, authorizer);
  }

  private io.lodestar.server.auth.AuthDecorator authDecorator() {
    return new io.lodestar.server.auth.AuthDecorator(authorizer, revocations, config.metricsOpen);
  }

  /** The open requests and streams of each token (closed when it is revoked). */
  public io.lodestar.server.auth.Revocations revocations() {
    return revocations;
  }

  /** Who may do what on this node. */
  public io.lodestar.server.auth.Authorizer authorizer() {
    return authorizer;
  }

  /** The port of the Consul-only listener, or -1 when there is none. */
  public int consulPort() {
    return consulServer == null ? -1 : consulServer.activeLocalPort();
  }

  /** In a cluster, a node decides the leases it holds; the leader also those whose holder is gone. */
  private static HealthChecker.LeaseScope clusterLeases(io.lodestar.server.storage.RaftCluster raft) {
    return new HealthChecker.LeaseScope() {
      @Override
      public String localId() {
        return raft.nodeId();
      }

      @Override
      public boolean isLeader() {
        return raft.isLeaderReady();
      }

      @Override
      public boolean holderAlive(String holder) {
        return raft.holderAlive(holder);
      }
    };
  }

  /** Runs one health scan now and waits for its transitions (tests, with a manual clock). */
  public void scanHealth() {
    health.scanNow();
  }

  /**
   * Whether the health scans sleep past the next second now: a single node on the system clock
   * with no probe, pause or flagged walk, and no lease due within a second (tests, diagnostics).
   */
  public boolean healthScansIdle() {
    return health.scansIdle();
  }

  /** The port actually bound. */
  public int port() {
    return server.activeLocalPort();
  }

  public StateMachine stateMachine() {
    return stateMachine;
  }

  /** Forces a snapshot of the state now (tests and operators). */
  public void snapshot() {
    commandLog.snapshot();
  }

  /** The Raft log in cluster mode, else null. */
  public RaftLog raftLog() {
    return raftLog;
  }

  /** Stops serving, then closes storage: a clean shutdown. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    log.info("Lodestar stopping");
    if (grpc != null) {
      grpc.shutdown();
    }
    if (xds != null) {
      xds.close(); // ends the ADS streams, so that nodes reconnect (to another member) at once
    }
    if (consulServer != null) {
      consulServer.stop().join();
    }
    if (server != null) {
      server.stop().join();
    }
    if (health != null) {
      health.close();
    }
    if (console != null) {
      console.close();
    }
    if (telemetrySweeper != null) {
      telemetrySweeper.shutdownNow();
    }
    if (hub != null) {
      hub.close();
    }
    if (configHub != null) {
      configHub.close();
    }
    if (commandLog != null) {
      commandLog.close();
    }
    notifier.shutdownNow();
    log.info("Lodestar stopped");
  }
}
