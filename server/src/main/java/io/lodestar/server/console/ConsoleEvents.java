package io.lodestar.server.console;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.stream.StreamWriter;
import com.linecorp.armeria.server.streaming.ServerSentEvents;
import io.lodestar.core.config.ConfigListener;
import io.lodestar.core.config.ConfigView;
import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.server.http.Routes;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The console's change feed, {@code GET /ui/events}: server-sent events {@code naming} and
 * {@code config} that tell open pages to reload their live regions (htmx's SSE extension turns
 * them into {@code sse:naming} / {@code sse:config} triggers).
 *
 * <p>Listeners run on the applying thread and must not block, so they only set a flag; the
 * console's scheduler sends at most one event of each kind per {@link #COALESCE_MS}, however many
 * changes a burst carries. An event says only "something changed": the page asks for the current
 * state, so a dropped or merged event loses nothing.
 */
final class ConsoleEvents implements RegistryListener, ConfigListener, Routes.Owner {
  static final long COALESCE_MS = 250;
  private static final long KEEPALIVE_SECONDS = 20;

  private final ScheduledExecutorService scheduler;
  private final long keepAliveMillis;
  private final Set<StreamWriter<ServerSentEvent>> streams = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean naming = new AtomicBoolean();
  private final AtomicBoolean config = new AtomicBoolean();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private ScheduledFuture<?> keepAlive; // guarded by this; null while no feed is open

  ConsoleEvents(ScheduledExecutorService scheduler, MeterRegistry meters) {
    this(scheduler, meters, TimeUnit.SECONDS.toMillis(KEEPALIVE_SECONDS));
  }

  ConsoleEvents(ScheduledExecutorService scheduler, MeterRegistry meters, long keepAliveMillis) {
    this.scheduler = scheduler;
    this.keepAliveMillis = keepAliveMillis;
    meters.gauge("lodestar.console.event.streams", streams, Set::size);
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/ui/events", "events", c -> events());
  }

  public HttpResponse events() {
    StreamWriter<ServerSentEvent> w = StreamMessage.streaming();
    streams.add(w);
    keepAliveWhileOpen();
    w.whenComplete().handle((v, e) -> {
      streams.remove(w);
      keepAliveWhileOpen();
      return null;
    });
    w.tryWrite(ServerSentEvent.ofComment("connected"));
    return ServerSentEvents.fromPublisher(w);
  }

  @Override
  public void onServiceChanged(ServiceChange change) {
    naming.set(true);
    schedule();
  }

  @Override
  public void onConfigChanged(ConfigView view) {
    config.set(true);
    schedule();
  }

  private void schedule() {
    if (!streams.isEmpty() && scheduled.compareAndSet(false, true)) {
      scheduler.schedule(this::flush, COALESCE_MS, TimeUnit.MILLISECONDS);
    }
  }

  private void flush() {
    scheduled.set(false);
    if (naming.getAndSet(false)) {
      send(ServerSentEvent.builder().event("naming").data("changed").build());
    }
    if (config.getAndSet(false)) {
      send(ServerSentEvent.builder().event("config").data("changed").build());
    }
  }

  private void send(ServerSentEvent e) {
    for (StreamWriter<ServerSentEvent> w : streams) {
      if (!w.tryWrite(e)) {
        streams.remove(w);
      }
    }
  }

  /**
   * Runs the keep-alive timer only while a feed is open. A node nobody watches would otherwise
   * wake every 20 s, and its first keep-alive loaded the event classes in the middle of whatever
   * the node was doing (a held registry's idle CPU is a benchmark of its own). Called after every
   * change to the feeds, so the last call sees the last change.
   */
  private synchronized void keepAliveWhileOpen() {
    if (streams.isEmpty()) {
      if (keepAlive != null) {
        keepAlive.cancel(false);
        keepAlive = null;
      }
    } else if (keepAlive == null) {
      try {
        keepAlive = scheduler.scheduleAtFixedRate(() -> send(ServerSentEvent.ofComment("keep-alive")),
            keepAliveMillis, keepAliveMillis, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // the console is closing: its feeds end with it
      }
    }
  }

  /** Open feeds (tests). */
  int streamCount() {
    return streams.size();
  }

  /** Whether the keep-alive timer runs (tests). */
  synchronized boolean keepAliveScheduled() {
    return keepAlive != null;
  }

  /** Ends every open feed (server shutdown), so graceful shutdown need not wait for them. */
  void close() {
    streams.forEach(StreamWriter::close);
    streams.clear();
  }
}
