package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * An idle event loop given {@link IdleLoops#letSleep} stays asleep; one without it wakes every
 * second. Read from the loop thread's count of the times it went to sleep (Linux's
 * voluntary_ctxt_switches), so the test counts wake-ups, not time.
 *
 * <p>The counts are read from outside the loop, once it is asleep: a loop that has just run a task
 * can still block on its way back to sleep (a safepoint for a collection, a class read from disk, a
 * contended lock), and those sleeps say nothing about timers. Reading them from a task on the loop
 * counted them, and one CI run in eight failed so (6 sleeps against a bound of 2, all in the
 * milliseconds after the first reading).
 */
class IdleLoopsTest {
  private static final Path SELF = Path.of("/proc/thread-self/stat");
  private static final Duration IDLE = Duration.ofMillis(3500);

  @Test
  void anIdleLoopSleepsUntilThereIsWork() throws Exception {
    assumeTrue(Files.isReadable(SELF), "needs Linux's /proc/thread-self");
    EventLoopGroup napping = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup plain = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      IdleLoops.letSleep(napping);
      IdleLoops.letSleep(napping); // a second call adds nothing
      Path nappingThread = threadOf(napping);
      Path plainThread = threadOf(plain);
      long napping0 = settledSleeps(nappingThread);
      long plain0 = settledSleeps(plainThread);
      Thread.sleep(IDLE.toMillis()); // the idle window being measured, not a wait for something to happen
      long nappingSleeps = sleeps(nappingThread) - napping0;
      long plainSleeps = sleeps(plainThread) - plain0;
      // each second's purge wake-up is one more sleep; a napping loop has none to wake for
      assertThat(plainSleeps).as("a plain loop's sleeps in %s (the control)", IDLE).isGreaterThanOrEqualTo(3);
      assertThat(nappingSleeps).as("a napping loop's sleeps in %s", IDLE).isLessThanOrEqualTo(1);
      // and it still runs what it is given at once
      assertThat(napping.next().submit(() -> "ran").get(5, TimeUnit.SECONDS)).isEqualTo("ran");
    } finally {
      napping.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      plain.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** The /proc directory of the group's one loop thread, asked of that thread. */
  private static Path threadOf(EventLoopGroup group) throws Exception {
    String tid = group.next().submit(() -> Files.readString(SELF).split(" ", 2)[0]).get(5, TimeUnit.SECONDS);
    return Path.of("/proc/self/task", tid);
  }

  /**
   * The thread's sleeps once it is asleep and has stayed so between two readings: whatever it did
   * after the task that named it is then behind it.
   */
  private static long settledSleeps(Path thread) {
    AtomicLong last = new AtomicLong(-1);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
      long now = sleeps(thread);
      return asleep(thread) && last.getAndSet(now) == now;
    });
    return last.get();
  }

  private static boolean asleep(Path thread) {
    try {
      String stat = Files.readString(thread.resolve("stat"));
      // the state follows the command name, which is in parentheses and may hold spaces
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'S';
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How many times the thread has gone to sleep so far, read from outside it (it stays asleep). */
  private static long sleeps(Path thread) {
    try {
      for (String line : Files.readAllLines(thread.resolve("status"))) {
        if (line.startsWith("voluntary_ctxt_switches:")) {
          return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no voluntary_ctxt_switches in " + thread.resolve("status"));
  }
}
