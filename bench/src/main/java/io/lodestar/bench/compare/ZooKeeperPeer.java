package io.lodestar.bench.compare;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.CuratorCacheStorage;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * ZooKeeper as Curator users run it: a standalone server in its own JVM (fsync on, as shipped),
 * instances as ephemeral znodes under {@code /services/<service>}, watches through CuratorCache and
 * uncached reads the way Curator's x-discovery {@code queryForInstances} does them.
 */
final class ZooKeeperPeer implements Peer {
  private static final int SESSION_TIMEOUT_MS = 10_000;
  private static final String ROOT = "/services";

  private final Set<ZooKeeperClient> clients = ConcurrentHashMap.newKeySet();
  private Process process;
  private String heap = "?";
  private String connectString;

  public ZooKeeperPeer() {}

  @Override
  public String name() {
    return "ZooKeeper";
  }

  @Override
  public String version() {
    return "ZooKeeper " + org.apache.zookeeper.Version.getFullVersion() + "; Curator "
        + CuratorFramework.class.getPackage().getImplementationVersion();
  }

  @Override
  public String settings() {
    return "forceSync yes (fsync on), tickTime 2000, session timeout " + SESSION_TIMEOUT_MS / 1000 + " s, -Xmx" + heap
        + ", Curator watches (CuratorCache)";
  }

  @Override
  public void start(Path workDir, String heap) throws Exception {
    this.heap = heap;
    int port = Proc.freePort();
    Path data = Files.createDirectories(workDir.resolve("data"));
    Path log = workDir.resolve("zookeeper.log");
    // Production-like: forceSync, snapCount and autopurge keep their defaults (fsync on, 100k, off).
    // maxClientCnxns=0 because every bench client connects from 127.0.0.1, beyond the default 60.
    Path cfg = Files.writeString(workDir.resolve("zoo.cfg"), String.join("\n",
        "tickTime=2000",
        "dataDir=" + data,
        "clientPort=" + port,
        "clientPortAddress=127.0.0.1",
        "maxClientCnxns=0",
        "admin.enableServer=false",
        "4lw.commands.whitelist=srvr", // the default, spelled out: start() polls it
        ""));
    Path logback = Files.writeString(workDir.resolve("logback.xml"), """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
          </appender>
          <root level="INFO"><appender-ref ref="OUT"/></root>
        </configuration>
        """);
    // Its stdout is the log: ZooKeeper's own lines and anything the JVM prints land in one file.
    process = Proc.start(List.of(Proc.java(), "-Xmx" + heap,
        "-Dlogback.configurationFile=" + logback,
        "-cp", serverClassPath(),
        "org.apache.zookeeper.server.ZooKeeperServerMain", cfg.toString()), log, workDir);
    connectString = "127.0.0.1:" + port;
    try {
      // `srvr` first: a Curator client polling a server still starting logs a stack trace per try
      Proc.awaitReady(process, Duration.ofSeconds(60), log, () -> serving(port));
      try (CuratorFramework probe = newCurator(connectString)) {
        if (!probe.blockUntilConnected(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("srvr answers, but a Curator client did not connect within 30 s");
        }
      }
    } catch (Exception e) {
      Proc.stop(process);
      // the caller may delete workDir at once (a test's @TempDir), so the log's end goes with the error
      throw new IllegalStateException("ZooKeeper did not start: " + e.getMessage() + "; its log says:\n"
          + excerpt(log, 30), e);
    }
  }

  /**
   * The log from its first ERROR on (or its end): a server whose start failed may stay up, not
   * serving, and then its last lines no longer tell why (a missing jar, for one).
   */
  private static String excerpt(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      int from = 0;
      while (from < all.size() && !all.get(from).contains(" ERROR ")) {
        from++;
      }
      if (from == all.size()) {
        from = Math.max(0, all.size() - lines);
      }
      return String.join("\n", all.subList(from, Math.min(all.size(), from + lines)));
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Whether the server answers the `srvr` four-letter word as serving (not "not currently serving"). */
  private static boolean serving(int port) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(2_000);
      socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).startsWith("Zookeeper version:");
    }
  }

  /** A Curator client as an application builds one: 10 s sessions, exponential back-off retries. */
  private static CuratorFramework newCurator(String connectString) {
    CuratorFramework curator = CuratorFrameworkFactory.builder().connectString(connectString)
        .sessionTimeoutMs(SESSION_TIMEOUT_MS).connectionTimeoutMs(SESSION_TIMEOUT_MS) // no longer than a session
        .retryPolicy(new ExponentialBackoffRetry(1_000, 3)).build();
    curator.start();
    return curator;
  }

  /**
   * The class path the server JVM runs with: this JVM's own. It holds ZooKeeper, the jars its
   * server needs beyond its client (metrics-core, snappy-java: see bench/pom.xml) and the logback
   * binding, both under the ./lodestar launcher (target/lib/*) and under surefire (configured with
   * a plain class path, not a manifest-only jar).
   */
  private static String serverClassPath() {
    String cp = System.getProperty("java.class.path", "");
    Path zkJar;
    try {
      zkJar = Path.of(org.apache.zookeeper.server.ZooKeeperServerMain.class.getProtectionDomain().getCodeSource()
          .getLocation().toURI()).toAbsolutePath().normalize();
    } catch (Exception e) {
      throw new IllegalStateException("cannot locate the ZooKeeper jar", e);
    }
    boolean listed = Arrays.stream(cp.split(File.pathSeparator)).filter(s -> !s.isEmpty())
        .anyMatch(s -> Path.of(s).toAbsolutePath().normalize().equals(zkJar));
    if (!listed) {
      throw new IllegalStateException("the ZooKeeper jar " + zkJar + " is not on java.class.path (" + cp
          + "): run with a plain class path, e.g. through ./lodestar bench or surefire with useManifestOnlyJar=false");
    }
    return cp;
  }

  @Override
  public long pid() {
    return process.pid();
  }

  @Override
  public boolean jvm() {
    return true;
  }

  @Override
  public PeerClient client() throws Exception {
    if (connectString == null) {
      throw new IllegalStateException("ZooKeeper peer not started");
    }
    ZooKeeperClient client = new ZooKeeperClient(connectString, clients::remove);
    clients.add(client);
    return client;
  }

  @Override
  public void close() throws Exception {
    for (ZooKeeperClient client : List.copyOf(clients)) {
      client.close();
    }
    Proc.stop(process);
  }

  /** One application's Curator client: one ZooKeeper session. */
  private static final class ZooKeeperClient implements PeerClient {
    private final CuratorFramework curator;
    private final Consumer<ZooKeeperClient> onClose;
    private final Set<CuratorCache> caches = ConcurrentHashMap.newKeySet();

    ZooKeeperClient(String connectString, Consumer<ZooKeeperClient> onClose) throws InterruptedException {
      this.onClose = onClose;
      curator = newCurator(connectString);
      if (!curator.blockUntilConnected(30, TimeUnit.SECONDS)) {
        curator.close();
        throw new IllegalStateException("Curator could not connect to ZooKeeper at " + connectString + " within 30 s");
      }
    }

    @Override
    public void register(Inst instance) throws Exception {
      curator.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
          .forPath(path(instance), instance.json().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void deregister(Inst instance) throws Exception {
      curator.delete().forPath(path(instance));
    }

    @Override
    public AutoCloseable watch(String service, Consumer<Set<String>> onChange) {
      String servicePath = ZKPaths.makePath(ROOT, service);
      Set<String> ids = ConcurrentHashMap.newKeySet();
      // Only the ids are needed: data is still fetched, as Curator does, but not kept in this JVM.
      CuratorCache cache = CuratorCache.builder(curator, servicePath)
          .withStorage(CuratorCacheStorage.dataNotCached()).build();
      AtomicBoolean initialized = new AtomicBoolean();
      // Listener calls come one at a time from the cache's thread; the initial load's events are
      // folded into one call after it, as a service of thousands would otherwise cost n² copies.
      cache.listenable().addListener(CuratorCacheListener.builder()
          .forAll((type, oldData, data) -> {
            ChildData node = data != null ? data : oldData;
            if (!servicePath.equals(ZKPaths.getPathAndNode(node.getPath()).getPath())) {
              return; // the service node itself, or deeper than an instance
            }
            String id = ZKPaths.getNodeFromPath(node.getPath());
            boolean changed = switch (type) {
              case NODE_CREATED -> ids.add(id);
              case NODE_DELETED -> ids.remove(id);
              case NODE_CHANGED -> false;
            };
            if (changed && initialized.get()) {
              onChange.accept(Set.copyOf(ids));
            }
          })
          .forInitialized(() -> {
            initialized.set(true);
            onChange.accept(Set.copyOf(ids));
          })
          .build());
      caches.add(cache);
      cache.start();
      return () -> {
        caches.remove(cache);
        cache.close();
      };
    }

    @Override
    public int read(String service) throws Exception {
      String servicePath = ZKPaths.makePath(ROOT, service);
      List<String> children;
      try {
        children = curator.getChildren().forPath(servicePath);
      } catch (KeeperException.NoNodeException none) {
        return 0;
      }
      int read = 0;
      for (String child : children) {
        try {
          curator.getData().forPath(ZKPaths.makePath(servicePath, child));
          read++;
        } catch (KeeperException.NoNodeException gone) {
          // deregistered between the two calls: x-discovery skips it too
        }
      }
      return read;
    }

    @Override
    public void close() {
      for (CuratorCache cache : List.copyOf(caches)) {
        cache.close();
      }
      caches.clear();
      curator.close(); // ends the session: the server drops its ephemeral nodes at once
      onClose.accept(this);
    }

    private static String path(Inst instance) {
      return ZKPaths.makePath(ROOT, instance.service(), instance.id());
    }
  }
}
