package io.lodestar.server.xds;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Owns every ADS stream on one thread ({@code lodestar-xds}): requests, and the pushes that a
 * registry change (instances or rules) causes. A change drops the service's generated resources
 * and wakes the thread; changes that arrive while it is busy are coalesced. The thread then asks
 * each stream that follows a changed service to refresh: the first ask rebuilds the service's
 * resources once, every other stream reuses them, and a stream sends only the types whose
 * version moved.
 */
public final class XdsHub implements RegistryListener, AutoCloseable {
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lodestar-xds");
    t.setDaemon(true);
    return t;
  });
  private final XdsCatalog catalog;
  private final XdsResolver resolver;
  private final Object pendingLock = new Object();
  private Set<ServiceKey> pending = new LinkedHashSet<>(); // guarded by pendingLock
  private boolean drainScheduled; // guarded by pendingLock
  private final List<AdsStream> streams = new ArrayList<>(); // xds thread only
  private final AtomicInteger streamCount = new AtomicInteger();
  private final Map<XdsType, Counter> responses = new EnumMap<>(XdsType.class);
  private final Map<XdsType, Counter> nacks = new EnumMap<>(XdsType.class);
  private final Timer pushes;
  private final AdsStream.Source source;
  private volatile boolean closed;

  public XdsHub(Registry registry, MeterRegistry meters) {
    this.catalog = new XdsCatalog(registry);
    this.resolver = new XdsResolver(catalog);
    for (XdsType t : XdsType.values()) {
      String type = t.name().toLowerCase(java.util.Locale.ROOT);
      responses.put(t, Counter.builder("lodestar.xds.responses").description("xDS responses sent")
          .tag("type", type).register(meters));
      nacks.put(t, Counter.builder("lodestar.xds.nacks").description("xDS responses rejected by nodes")
          .tag("type", type).register(meters));
    }
    this.pushes = Timer.builder("lodestar.xds.push").description("rebuilding and sending after a batch of changes")
        .register(meters);
    meters.gauge("lodestar.xds.streams", streamCount);
    this.source = new AdsStream.Source() {
      @Override
      public List<XdsResource> resolve(XdsNode node, XdsType type, Set<String> names, boolean wildcard) {
        return resolver.resolve(node, type, names, wildcard);
      }

      @Override
      public void sent(XdsType type) {
        responses.get(type).increment();
      }

      @Override
      public void nacked(XdsType type) {
        nacks.get(type).increment();
      }
    };
  }

  AdsStream.Source source() {
    return source;
  }

  /** Once closed (the server is stopping), new streams are refused at once, not left to hang. */
  boolean isClosed() {
    return closed;
  }

  void open(AdsStream stream) {
    run(() -> {
      streams.add(stream);
      streamCount.set(streams.size());
      drain(); // changes made while no stream was open waited for this one
    });
  }

  void request(AdsStream stream, DiscoveryRequest request) {
    run(() -> stream.onRequest(request));
  }

  /** Forgets a stream that ended; {@code then} runs on the xDS thread, after its last send. */
  void remove(AdsStream stream, Runnable then) {
    run(() -> {
      then.run();
      stream.close();
      streams.remove(stream);
      streamCount.set(streams.size());
    });
  }

  /** Runs on the xDS thread; once closed, nothing runs (streams are ended, changes are moot). */
  private void run(Runnable task) {
    if (closed) {
      return;
    }
    try {
      thread.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed meanwhile: the caller (the applier, an event loop) must not fail for it
    }
  }

  @Override
  public void onServiceChanged(ServiceChange change) {
    if (closed) {
      return;
    }
    synchronized (pendingLock) {
      pending.add(change.key());
      // With no stream open there is nobody to push to: the key waits (at most one per service)
      // and the next stream's open drains it, so a registration burst never wakes this thread.
      // Reading the count under the lock, after the add, pairs with open(): either it sees the
      // new stream, or open's drain sees the key.
      if (drainScheduled || streamCount.get() == 0) {
        return;
      }
      drainScheduled = true;
    }
    run(this::drain);
  }

  private void drain() {
    Set<ServiceKey> keys;
    synchronized (pendingLock) {
      keys = pending;
      pending = new LinkedHashSet<>();
      drainScheduled = false;
    }
    if (keys.isEmpty()) {
      return;
    }
    long t0 = System.nanoTime();
    for (ServiceKey k : keys) {
      catalog.invalidate(k);
    }
    for (AdsStream s : streams) {
      for (ServiceKey k : keys) {
        if (s.follows(k.namespace(), k.service())) {
          s.refresh();
          break;
        }
      }
    }
    pushes.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
  }

  /** Ends every stream with UNAVAILABLE (nodes retry, keeping what they have), then the thread. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      // end every stream before the server drains, so that none is cut off by the drain
      thread.submit(() -> {
        for (AdsStream s : streams) {
          s.end();
        }
        streams.clear();
        streamCount.set(0);
      }).get(2, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
        | java.util.concurrent.RejectedExecutionException e) {
      // ending streams is a courtesy; the drain ends what is left
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread.shutdown();
    try {
      thread.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
