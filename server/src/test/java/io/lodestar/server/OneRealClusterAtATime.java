package io.lodestar.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test classes that run a cluster of real server processes take turns, across this module's test
 * JVMs (surefire runs two side by side): a file lock held from before the class's
 * {@code @BeforeAll} to after its {@code @AfterAll}. Two such clusters starting at once are six
 * JVMs starting on the same cores as everything else; one at a time keeps their start and their
 * elections within the tests' bounds on a loaded machine, while the other JVM runs the in-process
 * tests meanwhile.
 */
public final class OneRealClusterAtATime implements BeforeAllCallback, AfterAllCallback {
  private static final Path LOCK = Path.of("target", "real-cluster.lock");
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(OneRealClusterAtATime.class);

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    Files.createDirectories(LOCK.getParent());
    FileChannel channel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = channel.lock(); // blocks while another test JVM holds it
    context.getStore(NS).put("lock", lock);
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    FileLock lock = context.getStore(NS).remove("lock", FileLock.class);
    if (lock != null) {
      lock.release();
      lock.channel().close();
    }
  }
}
