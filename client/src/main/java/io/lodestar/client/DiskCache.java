package io.lodestar.client;

import io.lodestar.client.internal.Instances;
import io.lodestar.client.internal.RuleSet;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.client.internal.Logs;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The failover cache: each service's last known list, one file per service under the cache
 * directory ({@code <dir>/<namespace>/<service>.snapshot}, a {@link ServiceUpdate} with
 * {@code snapshot=true} in protobuf binary form).
 *
 * <p>Writes run on the cache's own thread, never on the gRPC or control thread, and are
 * coalesced: marking a service dirty schedules one write {@value #COALESCE_MILLIS} ms later, which
 * writes whatever snapshot is current by then; marks during that window are absorbed. Each write
 * goes to a temp file in the same directory, then is renamed over the old file, so a reader (or a
 * crash) sees the old file or the new one, never half of one.
 */
final class DiskCache implements AutoCloseable {
  private static final System.Logger LOG = Logs.get(DiskCache.class.getName());
  static final long COALESCE_MILLIS = 50;
  static final String SUFFIX = ".snapshot";

  private final Path dir;
  private final ScheduledExecutorService io;
  private final ConcurrentHashMap<ServiceEntry, AtomicBoolean> dirty = new ConcurrentHashMap<>();

  DiskCache(Path dir, String threadName) {
    this.dir = dir;
    this.io = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  /** Any thread. Schedules a write of the entry's current snapshot. */
  void markDirty(ServiceEntry e) {
    AtomicBoolean flag = dirty.computeIfAbsent(e, k -> new AtomicBoolean());
    if (flag.compareAndSet(false, true)) {
      try {
        io.schedule(() -> {
          flag.set(false);
          write(e);
        }, COALESCE_MILLIS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        flag.set(false);
      }
    }
  }

  /** Reads a service's file on the cache thread and hands the result to the callback. */
  void loadAsync(String namespace, String service, java.util.function.Consumer<Optional<ServiceUpdate>> callback) {
    try {
      io.execute(() -> callback.accept(load(namespace, service)));
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // closing: nothing to load into
    }
  }

  /** Reads a service's file; empty when absent or unreadable (logged). */
  Optional<ServiceUpdate> load(String namespace, String service) {
    Path file = fileFor(namespace, service);
    try (InputStream in = Files.newInputStream(file)) {
      ServiceUpdate u = ServiceUpdate.parseFrom(in);
      if (!u.getSnapshot() || !u.getNamespace().equals(namespace) || !u.getService().equals(service)) {
        LOG.log(Level.WARNING, "ignoring failover cache file {0}: it does not hold a snapshot of {1}/{2}",
            file, namespace, service);
        return Optional.empty();
      }
      return Optional.of(u);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "ignoring unreadable failover cache file " + file, e);
      return Optional.empty();
    }
  }

  Path fileFor(String namespace, String service) {
    return dir.resolve(encode(namespace)).resolve(encode(service) + SUFFIX);
  }

  // Names are [A-Za-z0-9._:@-] starting with a letter or digit; only ':' is unsafe on some
  // file systems, and '%' never appears in a name, so the escape is unambiguous.
  private static String encode(String name) {
    return name.replace(":", "%3A");
  }

  private void write(ServiceEntry e) {
    ServiceSnapshot s = e.snapshot;
    if (s == null || e.snapshotFromDisk) {
      return;  // nothing known, or the file already holds it
    }
    ServiceUpdate u = ServiceUpdate.newBuilder()
        .setNamespace(s.namespace())
        .setService(s.service())
        .setRevision(s.revision())
        .setSnapshot(true)
        .addAllInstances(s.instances().stream().map(Instances::toProto).toList())
        .setInfo(ServiceInfo.newBuilder()
            .setNamespace(s.namespace())
            .setName(s.service())
            .setProtectThreshold(s.protectThreshold())
            .setRules(RuleSet.proto(s.rules()))  // governance rules are served from the cache too
            .setRevision(s.revision()))
        .build();
    Path file = fileFor(s.namespace(), s.service());
    AtomicFiles.write(file, u);
  }

  /** Writes what is still dirty, then stops the cache thread (bounded wait). */
  @Override
  public void close() {
    try {
      io.execute(() -> dirty.forEach((e, flag) -> {
        if (flag.getAndSet(false)) {
          write(e);
        }
      }));
    } catch (java.util.concurrent.RejectedExecutionException alreadyClosed) {
      return;
    }
    io.shutdown();  // delayed writes still pending run now: shutdown keeps them by default
    try {
      if (!io.awaitTermination(5, TimeUnit.SECONDS)) {
        io.shutdownNow();
      }
    } catch (InterruptedException ie) {
      io.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
