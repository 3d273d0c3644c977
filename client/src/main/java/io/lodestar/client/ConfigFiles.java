package io.lodestar.client;

import io.lodestar.api.v1.ConfigUpdate;
import io.lodestar.client.internal.Logs;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The configs' failover cache: the last version of each config the application used, one file
 * per config ({@code <dir>/<namespace>/configs/<group>/<name>.config}, a {@link ConfigUpdate} in
 * protobuf binary form). Files are owner-only, since a secret config's plaintext is in them.
 * Reads and writes run in order on the cache's own thread; each write goes to a temp file that is
 * renamed over the old one, so a crash leaves the old version or the new one, never half.
 */
final class ConfigFiles implements AutoCloseable {
  private static final System.Logger LOG = Logs.get(ConfigFiles.class.getName());
  static final String SUFFIX = ".config";

  private final Path dir;
  private final ExecutorService io;

  ConfigFiles(Path dir, String threadName) {
    this.dir = dir;
    this.io = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  void writeAsync(ConfigUpdate u) {
    try {
      io.execute(() -> write(u));
    } catch (RejectedExecutionException closed) {
      // closing: the last write queued before it still runs
    }
  }

  void loadAsync(String namespace, String group, String name, Consumer<Optional<ConfigUpdate>> callback) {
    try {
      io.execute(() -> callback.accept(load(namespace, group, name)));
    } catch (RejectedExecutionException closed) {
      // closing: nothing to load into
    }
  }

  Optional<ConfigUpdate> load(String namespace, String group, String name) {
    Path file = fileFor(namespace, group, name);
    try (InputStream in = Files.newInputStream(file)) {
      ConfigUpdate u = ConfigUpdate.parseFrom(in);
      if (!u.getNamespace().equals(namespace) || !u.getGroup().equals(group) || !u.getName().equals(name)) {
        LOG.log(Level.WARNING, "ignoring failover cache file {0}: it holds another config", file);
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

  Path fileFor(String namespace, String group, String name) {
    return dir.resolve(encode(namespace)).resolve("configs").resolve(encode(group)).resolve(encode(name) + SUFFIX);
  }

  // Names never contain '%'; only ':' is unsafe on some file systems.
  private static String encode(String name) {
    return name.replace(":", "%3A");
  }

  private void write(ConfigUpdate u) {
    Path file = fileFor(u.getNamespace(), u.getGroup(), u.getName());
    AtomicFiles.write(file, u);
  }

  /** Finishes queued writes (bounded wait), then stops the thread. */
  @Override
  public void close() {
    io.shutdown();
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
