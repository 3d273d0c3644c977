package io.lodestar.client;

import io.lodestar.client.internal.Logs;
import java.lang.System.Logger.Level;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Delivers events to one sink on a shared executor, in the order offered and never concurrently,
 * whatever the executor's thread count. Offering never blocks and never runs the sink inline.
 * A sink's exception is logged and does not stop delivery.
 */
final class SerialDispatcher<T> implements Runnable {
  private static final System.Logger LOG = Logs.get(SerialDispatcher.class.getName());
  /** Events delivered per executor task before yielding the thread to other sinks. */
  private static final int BATCH = 64;

  private final Executor executor;
  private final Consumer<? super T> sink;
  private final String name;
  private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean cancelled;

  SerialDispatcher(Executor executor, Consumer<? super T> sink, String name) {
    this.executor = executor;
    this.sink = sink;
    this.name = name;
  }

  void offer(T event) {
    if (cancelled) {
      return;
    }
    queue.add(event);
    schedule();
  }

  /** Drops queued events; later offers are ignored. An event being delivered completes. */
  void cancel() {
    cancelled = true;
    queue.clear();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      try {
        executor.execute(this);
      } catch (RejectedExecutionException e) {
        scheduled.set(false);
        LOG.log(Level.DEBUG, "listener executor rejected delivery to {0}; dropping {1} events", name, queue.size());
        queue.clear();
      }
    }
  }

  @Override
  public void run() {
    try {
      for (int n = 0; n < BATCH && !cancelled; n++) {
        T event = queue.poll();
        if (event == null) {
          break;
        }
        try {
          sink.accept(event);
        } catch (Throwable t) {
          LOG.log(Level.WARNING, "listener " + name + " threw; the event is dropped", t);
        }
      }
    } finally {
      scheduled.set(false);
      if (cancelled) {
        queue.clear();
      } else if (!queue.isEmpty()) {
        schedule();
      }
    }
  }
}
