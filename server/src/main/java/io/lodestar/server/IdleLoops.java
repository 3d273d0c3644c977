package io.lodestar.server;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Lets idle Netty event loops sleep until there is work. Netty 4.2's loop waits for I/O no longer
 * than until its next scheduled task and, with none scheduled, one second (its interval for purging
 * cancelled tasks), so an idle loop wakes every second for nothing. A wake-up is not free: about
 * 0.2 ms of CPU each on the 2-core machine of docs/benchmarks.md, and the accept thread and a worker
 * loop were two of an idle node's six wake-ups a second ("Performance levers"). One task due far off
 * bounds the wait instead; I/O and submitted tasks still wake the loop at once.
 */
final class IdleLoops {
  /** How long an idle loop may sleep: its task runs (and does nothing) this often. */
  static final long NAP_MINUTES = 60;
  private static final Set<EventLoopGroup> NAPPING = Collections.newSetFromMap(new WeakHashMap<>());

  private IdleLoops() {}

  /** Schedules the far-off task once on every loop of {@code group} (again for the same group: nothing). */
  static void letSleep(EventLoopGroup group) {
    synchronized (NAPPING) {
      if (!NAPPING.add(group)) {
        return;
      }
    }
    for (EventExecutor loop : group) {
      loop.scheduleAtFixedRate(IdleLoops::nap, NAP_MINUTES, NAP_MINUTES, TimeUnit.MINUTES);
    }
  }

  private static void nap() {
    // nothing to do: being scheduled is the point
  }
}
