package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An idle event loop given {@link IdleLoops#letSleep} stays asleep; one without it wakes every
 * second. Read from the loop thread's own count of the times it went to sleep (Linux's
 * voluntary_ctxt_switches), so the test counts wake-ups, not time.
 */
class IdleLoopsTest {
  private static final Path SELF = Path.of("/proc/thread-self/status");
  private static final Duration IDLE = Duration.ofMillis(3500);

  @Test
  void anIdleLoopSleepsUntilThereIsWork() throws Exception {
    assumeTrue(Files.isReadable(SELF), "needs Linux's /proc/thread-self");
    EventLoopGroup napping = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup plain = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      IdleLoops.letSleep(napping);
      IdleLoops.letSleep(napping); // a second call adds nothing
      long napping0 = sleeps(napping);
      long plain0 = sleeps(plain);
      Thread.sleep(IDLE.toMillis()); // the idle window being measured, not a wait for something to happen
      long nappingSleeps = sleeps(napping) - napping0;
      long plainSleeps = sleeps(plain) - plain0;
      // after the first reading the loop goes to sleep once (1); each second's purge wake-up adds one
      assertThat(plainSleeps).as("a plain loop's sleeps in %s (the control)", IDLE).isGreaterThanOrEqualTo(3);
      assertThat(nappingSleeps).as("a napping loop's sleeps in %s", IDLE).isLessThanOrEqualTo(2);
      // and it still runs what it is given at once
      assertThat(napping.next().submit(() -> "ran").get(5, TimeUnit.SECONDS)).isEqualTo("ran");
    } finally {
      napping.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      plain.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** How many times the group's one loop thread has gone to sleep so far, read on that thread. */
  private static long sleeps(EventLoopGroup group) throws Exception {
    return group.next().submit(() -> {
      for (String line : Files.readAllLines(SELF)) {
        if (line.startsWith("voluntary_ctxt_switches:")) {
          return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      throw new IllegalStateException("no voluntary_ctxt_switches in " + SELF);
    }).get(5, TimeUnit.SECONDS);
  }
}
