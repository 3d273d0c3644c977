package io.lodestar.client;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The few threads every {@link LodestarClient} of a JVM shares: a pool that runs the clients'
 * control loops, a pool that runs their listeners (unless a client was given its own executor)
 * and one timer. Each client keeps its own order on them ({@link ControlLoop},
 * {@link SerialDispatcher}).
 *
 * <p>Why: a client used to own a control thread and a listener thread. An application with 50
 * clients (W2 of issue 11: 50 watchers of one service) then woke 100 threads for one change, on
 * however few cores it had, and kept 100 threads' stacks for as long as it ran. The pools are
 * sized by the cores, not by the clients; their threads are daemons and end after a minute idle.
 */
final class SharedThreads {
  private static final long IDLE_SECONDS = 60;
  private static final int CORES = Runtime.getRuntime().availableProcessors();
  /** Control loops' threads at most. */
  static final int CONTROL_THREADS = Math.max(2, CORES);
  /** Listener threads at most. */
  static final int LISTENER_THREADS = Math.max(4, CORES);

  private SharedThreads() {}

  /**
   * Runs control loops: short tasks that never block (a client's gRPC callbacks and callers only
   * post to its loop). Two threads at least, so one loop busy with a large update does not hold
   * up every other client's.
   */
  static Executor control() {
    return Holder.CONTROL;
  }

  /**
   * Runs listeners: application code, which may be slow or block. One listener that blocks holds
   * one of these threads (and, as before, its own client's later events); a client whose
   * listeners block for long should be given a {@link LodestarClient.Builder#listenerExecutor}.
   */
  static Executor listeners() {
    return Holder.LISTENERS;
  }

  /** Fires the clients' timers (heartbeats, timeouts, backoffs); each only posts to its client's loop. */
  static ScheduledExecutorService timer() {
    return Holder.TIMER;
  }

  /** Created on first use: a JVM that never builds a client starts none of these threads. */
  private static final class Holder {
    static final Executor CONTROL = pool("lodestar-client-", CONTROL_THREADS);
    static final Executor LISTENERS = pool("lodestar-listener-", LISTENER_THREADS);
    static final ScheduledExecutorService TIMER = timer("lodestar-timer");

    private static Executor pool(String prefix, int threads) {
      ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, IDLE_SECONDS, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), daemons(prefix));
      p.allowCoreThreadTimeOut(true);
      return p;
    }

    private static ScheduledExecutorService timer(String name) {
      ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, daemons(name));
      t.setRemoveOnCancelPolicy(true);  // a request's timeout is cancelled by its answer: nearly always
      t.setKeepAliveTime(IDLE_SECONDS, TimeUnit.SECONDS);
      t.allowCoreThreadTimeOut(true);
      return t;
    }

    private static ThreadFactory daemons(String prefix) {
      AtomicInteger n = new AtomicInteger();
      return r -> {
        Thread t = new Thread(r, prefix.endsWith("-") ? prefix + n.incrementAndGet() : prefix);
        t.setDaemon(true);
        return t;
      };
    }
  }
}
