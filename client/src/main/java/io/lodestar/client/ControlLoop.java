package io.lodestar.client;

import io.lodestar.client.internal.Logs;
import java.lang.System.Logger.Level;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client's control thread, as a serial queue over a shared pool ({@link SharedThreads}): its
 * tasks run one at a time, in the order posted, each seeing everything the ones before it wrote,
 * on whichever pool thread is free. What {@link Connection}'s "control thread only" fields need,
 * without a thread per client.
 *
 * <p>Timers fire on a shared timer thread and post their task here. A timer cancelled from a
 * task of this loop never runs afterwards, even if it had already fired and its task was queued
 * (as with a single-threaded scheduler, where firing and cancelling could not interleave).
 */
final class ControlLoop implements Executor, Runnable {
  private static final System.Logger LOG = Logs.get(LodestarClient.class.getName());
  /** Tasks run per pool task before the thread is offered to other clients' loops. */
  private static final int BATCH = 64;

  private final Executor pool;
  private final ScheduledExecutorService timer;
  private final String name;
  private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Set<Timer> timers = ConcurrentHashMap.newKeySet();
  private volatile boolean shutdown;

  ControlLoop(Executor pool, ScheduledExecutorService timer, String name) {
    this.pool = pool;
    this.timer = timer;
    this.name = name;
  }

  /** The client's loop on the JVM's shared threads. */
  static ControlLoop shared(String name) {
    return new ControlLoop(SharedThreads.control(), SharedThreads.timer(), name);
  }

  /** Queues a task; any thread. @throws RejectedExecutionException once {@link #shutdownNow} was called */
  @Override
  public void execute(Runnable task) {
    checkOpen();
    queue.add(task);
    if (scheduled.compareAndSet(false, true)) {
      pool.execute(this);
    }
  }

  /**
   * Runs the task on the calling thread now if the loop is idle (nothing queued, nothing running),
   * else queues it: either way after every task posted before it and never beside another of this
   * loop's. For work that is short and safe on the caller's thread (a push applied to the cache on
   * the stream's event loop), it saves the hand-off to a pool thread and that thread's wake-up.
   *
   * @throws RejectedExecutionException once {@link #shutdownNow} was called
   */
  void runHereOrExecute(Runnable task) {
    checkOpen();
    if (!queue.isEmpty() || !scheduled.compareAndSet(false, true)) {
      execute(task);
      return;
    }
    try {
      task.run();
    } catch (Throwable t) {
      LOG.log(shutdown ? Level.DEBUG : Level.WARNING, name + ": a control task failed", t);
    } finally {
      release();  // what was posted meanwhile runs on the pool, not on this caller
    }
  }

  /** Runs the task on this loop after the delay, unless cancelled first. @throws RejectedExecutionException once shut down */
  Timer schedule(Runnable task, long delay, TimeUnit unit) {
    checkOpen();
    Timer t = new Timer(task, false);
    timers.add(t);
    t.arm(timer.schedule(t, delay, unit));
    return t;
  }

  /** Runs the task on this loop every period, until cancelled. */
  Timer scheduleAtFixedRate(Runnable task, long initialDelay, long period, TimeUnit unit) {
    checkOpen();
    Timer t = new Timer(task, true);
    timers.add(t);
    t.arm(timer.scheduleAtFixedRate(t, initialDelay, period, unit));
    return t;
  }

  /** Drops queued tasks and timers and refuses new ones; a task running now completes. Other loops go on. */
  void shutdownNow() {
    shutdown = true;
    queue.clear();
    for (Timer t : timers) {
      t.cancel();
    }
  }

  private void checkOpen() {
    if (shutdown) {
      throw new RejectedExecutionException(name + " is shut down");
    }
  }

  boolean isShutdown() {
    return shutdown;
  }

  @Override
  public void run() {
    try {
      for (int n = 0; n < BATCH && !shutdown; n++) {
        Runnable task = queue.poll();
        if (task == null) {
          break;
        }
        try {
          task.run();
        } catch (Throwable t) {
          LOG.log(shutdown ? Level.DEBUG : Level.WARNING, name + ": a control task failed", t);
        }
      }
    } finally {
      release();
    }
  }

  /** Ends a turn of running tasks: a task queued meanwhile gets the loop scheduled on the pool again. */
  private void release() {
    scheduled.set(false);
    if (shutdown) {
      queue.clear();
    } else if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
      pool.execute(this);
    }
  }

  /** A timer of this loop: fires on the shared timer thread, runs on the loop. */
  final class Timer implements Runnable {
    private final Runnable task;
    private final boolean periodic;
    private volatile boolean cancelled;
    private volatile Future<?> fired;

    private Timer(Runnable task, boolean periodic) {
      this.task = task;
      this.periodic = periodic;
    }

    private void arm(Future<?> f) {
      fired = f;
      if (cancelled || shutdown) {  // cancelled or shut down while being armed
        cancel();
      }
    }

    /** The timer thread: hand the task to the loop. */
    @Override
    public void run() {
      if (cancelled) {
        return;
      }
      if (!periodic) {
        timers.remove(this);
      }
      try {
        execute(this::fire);
      } catch (RejectedExecutionException shutDown) {
        cancel();
      }
    }

    private void fire() {
      if (!cancelled) {
        task.run();
      }
    }

    /** Stops the timer; its task does not run after this unless it is running now. Any thread. */
    void cancel() {
      cancelled = true;
      timers.remove(this);
      Future<?> f = fired;
      if (f != null) {
        f.cancel(false);
      }
    }
  }
}
