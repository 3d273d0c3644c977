package io.lodestar.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lodestar server}: runs one node until SIGTERM or Ctrl-C, then shuts down cleanly. */
@Command(name = "lodestar server", mixinStandardHelpOptions = true,
    description = "Runs a Lodestar node: gRPC, REST, /health and /metrics on one port, state under --data-dir.")
public final class Main implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The options given, when {@link PlainOptions} parsed them (picocli's parse result otherwise). */
  private java.util.Set<String> plainGiven;

  @Option(names = "--port", description = "client port (gRPC, REST, console); default ${DEFAULT-VALUE}")
  int port = LodestarServer.DEFAULT_PORT;

  @Option(names = "--bind", description = "address to listen on; default ${DEFAULT-VALUE} (loopback only)")
  String bind = "127.0.0.1";

  @Option(names = "--consul-port", description = "also serve the Consul API alone on this port (e.g. 8500), for "
      + "tools hard-wired to Consul's; the client port serves it anyway; default: none")
  int consulPort = -1;

  @Option(names = "--data-dir", description = "where state is kept; default ${DEFAULT-VALUE}")
  Path dataDir = Path.of("data");

  @Option(names = "--snapshot-every", description = "logged writes at least between snapshots (a single node also waits until the log since the last snapshot is as large as it); default ${DEFAULT-VALUE}")
  int snapshotEvery = 50_000;

  @Option(names = "--write-queue", description = "writes that may wait to be logged; new work is refused with a "
      + "retry hint once three-quarters are taken (docs/operations.md); default ${DEFAULT-VALUE}")
  int writeQueue = io.lodestar.server.storage.LocalLog.DEFAULT_WRITE_QUEUE;

  @Option(names = "--node-id", description = "this node's id in --cluster")
  String nodeId;

  @Option(names = "--cluster", description = "the cluster's members: id=host:port,... (client ports; a member's "
      + "Raft port is its client port + 1 unless written id=host:port/raftPort)")
  String cluster;

  @Option(names = "--raft-port", description = "this node's Raft port; default: client port + 1")
  int raftPort;

  @Option(names = "--join", description = "start with no membership and wait to be added (lodestar cluster add)")
  boolean join;

  @Option(names = "--expiry-protection", description = "pause removal of expired ephemeral instances when more than "
      + "this share of a namespace's or the node's leases would expire within a minute (1 = never pause); "
      + "default ${DEFAULT-VALUE}")
  double expiryProtection = io.lodestar.server.naming.ExpiryProtection.DEFAULT.share();

  @Option(names = "--auth", description = "require a token on every surface (REST, SDK, console, Consul API, xDS, "
      + "/metrics off loopback); the first start prints an admin token once and writes it to "
      + "<data-dir>/bootstrap-token (docs/security.md)")
  boolean auth;

  @Option(names = "--insecure", description = "allow a non-loopback --bind without --auth (a trusted network only)")
  boolean insecure;

  @Option(names = "--metrics-open", arity = "0..1", paramLabel = "true|false", description = "with --auth, whether "
      + "/metrics answers without a token; default: only when bound to loopback")
  Boolean metricsOpen;

  @Option(names = "--raft-segment-bytes", hidden = true, description = "Raft log segment size")
  long raftSegmentBytes = 8L << 20;

  @Option(names = "--cluster-secret-file", description = "the cluster secret (32 random bytes or more), the same file "
      + "on every member: members derive the secret-config key from it (docs/operations.md)")
  Path clusterSecretFile;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "serve TLS only on the client port (and "
      + "--consul-port): HTTPS, gRPC over TLS and the console; this PEM certificate chain, with --tls-key")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "the PEM (PKCS#8) private key of --tls-cert")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE", description = "mutual TLS: accept only clients with a "
      + "certificate issued by a CA in this PEM file")
  Path tlsClientCa;

  @Option(names = "--tls-self-signed", description = "serve TLS with a self-signed certificate kept in "
      + "<data-dir>/tls/self-signed.crt (development: clients trust that file with --tls-ca)")
  boolean tlsSelfSigned;

  @Option(names = "--max-instances-per-service", description = "instances one service may hold; default ${DEFAULT-VALUE}")
  int maxInstancesPerService = io.lodestar.server.limits.ServerLimits.DEFAULT.maxInstancesPerService();

  @Option(names = "--max-services-per-namespace", description = "services one namespace may hold; default ${DEFAULT-VALUE}")
  int maxServicesPerNamespace = io.lodestar.server.limits.ServerLimits.DEFAULT.maxServicesPerNamespace();

  @Option(names = "--max-streams-per-address", description = "open SDK streams from one client IP address; "
      + "default ${DEFAULT-VALUE}")
  int maxStreamsPerAddress = io.lodestar.server.limits.ServerLimits.DEFAULT.maxStreamsPerAddress();

  @Option(names = "--wal-truncate-damaged", description = "a single node whose write-ahead log is damaged in the "
      + "middle of its last segment starts anyway, cutting the log at the damage and losing the writes after it "
      + "(logged at WARN); without it such a node refuses to start and names the file and byte")
  boolean walTruncateDamaged;

  @Option(names = "--sync-ephemeral", description = "a single node syncs ephemeral registrations to disk before "
      + "answering them, as every other write; without it they are answered once written to the log file and "
      + "synced right after (they survive kill -9; a machine crash can lose the last moment's, which their "
      + "clients register again)")
  boolean syncEphemeral;

  @Option(names = "--hold-feature-level", paramLabel = "LEVEL", description = "this member agrees to feature "
      + "levels up to LEVEL only (0 to " + io.lodestar.core.StateMachine.FEATURE_LEVEL + "; default: the level this "
      + "version knows, " + io.lodestar.core.StateMachine.FEATURE_LEVEL + "): while it is a member the state stays at "
      + "or below it, so every member can still go back to a version that knows only LEVEL (docs/operations.md, "
      + "\"Feature levels\"); a level already raised stays")
  Integer holdFeatureLevel;

  @Option(names = "--config", description = "a properties file with the same settings (node-id, cluster, "
      + "raft-port, port, bind, data-dir, snapshot-every, write-queue, tls-cert, tls-key, tls-client-ca, tls-self-signed, cluster-secret-file, hold-feature-level); command-line options win")
  Path configFile;

  @Override
  public Integer call() throws Exception {
    LodestarServer server;
    try {
      if (configFile != null) {
        applyConfigFile();
      }
      LodestarServer.Builder b = LodestarServer.builder().port(port).bind(bind).dataDir(dataDir)
          .snapshotEvery(snapshotEvery).writeQueue(writeQueue).raftSegmentBytes(raftSegmentBytes).consulPort(consulPort)
          .clusterSecretFile(clusterSecretFile)
          .auth(auth).insecure(insecure).metricsOpen(metricsOpen).walTruncateDamaged(walTruncateDamaged)
          .syncEphemeral(syncEphemeral)
          .holdFeatureLevel(holdFeatureLevel == null ? io.lodestar.core.StateMachine.FEATURE_LEVEL : holdFeatureLevel)
          .expiryProtection(new io.lodestar.server.naming.ExpiryProtection(expiryProtection,
              io.lodestar.server.naming.ExpiryProtection.DEFAULT.windowNanos(),
              io.lodestar.server.naming.ExpiryProtection.DEFAULT.minRemovals()));
      io.lodestar.server.tls.TlsSettings tls = new io.lodestar.server.tls.TlsSettings(tlsCert, tlsKey, tlsClientCa,
          tlsSelfSigned);
      b.tls(tls);
      StartProbes.skipUnused(tls, System.getProperties());
      b.limits(new io.lodestar.server.limits.ServerLimits(maxInstancesPerService, maxServicesPerNamespace,
          maxStreamsPerAddress));
      if (cluster != null) {
        b.cluster(io.lodestar.server.storage.ClusterConfig.parse(nodeId, cluster, raftPort, join));
      } else if (nodeId != null || join) {
        System.err.println("lodestar server: --node-id and --join need --cluster");
        return 2;
      }
      server = b.build().start();
    } catch (RuntimeException e) {
      System.err.println("lodestar server: cannot start: " + rootMessage(e));
      return 1;
    }
    markReady(System.getProperty(READY_MARK));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "lodestar-shutdown"));
    stopped.await();
    return 0;
  }

  void applyConfigFile() throws java.io.IOException {
    java.util.Properties p = new java.util.Properties();
    try (var in = java.nio.file.Files.newBufferedReader(configFile)) {
      p.load(in);
    }
    java.util.function.Predicate<String> given = plainGiven != null ? plainGiven::contains
        : spec.commandLine().getParseResult()::hasMatchedOption;
    // a setting given on the command line wins over the file
    java.util.function.Function<String, String> fromFile = key ->
        given.test("--" + key) || !p.containsKey(key) ? null : p.getProperty(key).trim();
    String v;
    if ((v = fromFile.apply("node-id")) != null) {
      nodeId = v;
    }
    if ((v = fromFile.apply("cluster")) != null) {
      cluster = v;
    }
    if ((v = fromFile.apply("raft-port")) != null) {
      raftPort = Integer.parseInt(v);
    }
    if ((v = fromFile.apply("port")) != null) {
      port = Integer.parseInt(v);
    }
    if ((v = fromFile.apply("bind")) != null) {
      bind = v;
    }
    if ((v = fromFile.apply("consul-port")) != null) {
      consulPort = Integer.parseInt(v);
    }
    if ((v = fromFile.apply("data-dir")) != null) {
      dataDir = Path.of(v);
    }
    if ((v = fromFile.apply("tls-cert")) != null) {
      tlsCert = Path.of(v);
    }
    if ((v = fromFile.apply("tls-key")) != null) {
      tlsKey = Path.of(v);
    }
    if ((v = fromFile.apply("tls-client-ca")) != null) {
      tlsClientCa = Path.of(v);
    }
    if ((v = fromFile.apply("hold-feature-level")) != null) {
      holdFeatureLevel = Integer.parseInt(v);
    }
    if ((v = fromFile.apply("tls-self-signed")) != null) {
      tlsSelfSigned = Boolean.parseBoolean(v);
    }
    if ((v = fromFile.apply("cluster-secret-file")) != null) {
      clusterSecretFile = Path.of(v);
    }
    if ((v = fromFile.apply("snapshot-every")) != null) {
      snapshotEvery = Integer.parseInt(v);
    }
    if ((v = fromFile.apply("write-queue")) != null) {
      writeQueue = Integer.parseInt(v);
    }
    if ((v = fromFile.apply("auth")) != null) {
      auth = Boolean.parseBoolean(v);
    }
  }

  /** {@link #call()} with picocli's {@code execute} handling of an exception: its stack trace, exit code 1. */
  private int callAsPicocliWould() {
    try {
      return call();
    } catch (Exception e) {
      e.printStackTrace();
      return 1;
    }
  }

  private static String rootMessage(Throwable t) {
    String msg = t.getMessage();
    while (t.getCause() != null) {
      t = t.getCause();
      if (t.getMessage() != null) {
        msg = msg + ": " + t.getMessage();
      }
    }
    return msg;
  }

  /** Set by the launchers when this JVM records a class-data archive (or AOT cache) at exit. */
  static final String READY_MARK = "lodestar.readyMark";

  /**
   * Creates the file the launcher named, once the node serves. The launcher keeps a recording only
   * from a start that got this far: a first call after a build that printed {@code --help}, or
   * failed on a bad option, recorded a 2 MB archive of a few hundred classes, and every later start
   * mapped it and took twice as long until the next build. Best effort: without the mark the
   * launcher only records again.
   */
  static void markReady(String mark) {
    if (mark == null || mark.isEmpty()) {
      return;
    }
    try {
      java.nio.file.Files.write(Path.of(mark), new byte[0]);
    } catch (java.io.IOException | RuntimeException e) {
      // the next start records again; nothing else depends on the mark
    }
  }

  /** Armeria's system property for the size of its event-loop group, which serves every connection. */
  static final String EVENT_LOOPS = "com.linecorp.armeria.numCommonWorkers";

  /**
   * One event loop per core instead of Armeria's two: a loop never blocks here (storage and pushes
   * have threads of their own), and each loop that serves a connection keeps its own buffer pools
   * (Netty's per-thread magazines, ~65 kB of heap each) and stack. At 10,000 instances from 16 SDK
   * clients that is about 17 B per instance less live heap, at the same CPU per registration and read
   * (docs/benchmarks.md, "Performance levers"). {@code -D} of the same name (JAVA_OPTS) still decides.
   * Set before Armeria reads its flags, which it does once, when it is first used.
   */
  static void eventLoopsPerCore() {
    if (System.getProperty(EVENT_LOOPS) == null) {
      System.setProperty(EVENT_LOOPS, Integer.toString(Runtime.getRuntime().availableProcessors()));
    }
  }

  public static void main(String[] args) {
    System.setProperty("com.linecorp.armeria.warnNettyVersions", "false");
    eventLoopsPerCore();
    Main main = new Main();
    main.plainGiven = PlainOptions.parse(args, main);
    int code = main.plainGiven != null ? main.callAsPicocliWould() : new CommandLine(new Main()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
