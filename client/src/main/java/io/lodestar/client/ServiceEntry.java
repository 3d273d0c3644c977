package io.lodestar.client;

import io.lodestar.api.v1.ServiceInfo;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The client's state for one service it discovers.
 *
 * <p>Concurrency: {@link #snapshot} is the only thing readers on the hot path touch, one volatile
 * read. Every other mutable field without {@code volatile} is owned by the control thread (see
 * {@link ServiceCache}); the volatile ones are written by the control thread and read anywhere,
 * except {@link #pinned}, which callers set.
 */
final class ServiceEntry {
  final String namespace;
  final String service;

  /** Published by the control thread with one volatile write per update; null until known. */
  volatile ServiceSnapshot snapshot;
  /** Whether {@link #snapshot} came from the failover cache on disk rather than a server. */
  volatile boolean snapshotFromDisk;
  /** Completed when a snapshot becomes known (or exceptionally when the server refuses). */
  volatile CompletableFuture<Void> ready = new CompletableFuture<>();
  /** Set (forever) once a caller used getInstances/selectOne: the cache must stay current. */
  volatile boolean pinned;
  final CopyOnWriteArrayList<ListenerHandle> listeners = new CopyOnWriteArrayList<>();

  // ---- control thread only
  boolean active;               // subscribed (or wants to be, when the stream is down)
  long revision;                // revision of the instances below (0 = none)
  boolean revisionTrusted;      // false for lists loaded from disk: resubscribe from 0
  boolean resyncPending;        // a resubscribe was sent after a delta did not fit
  boolean diskLoadRequested;
  long subscribeRequestId;      // of the subscription awaiting its first update (0 = none)
  Map<String, Instance> byId = Map.of();
  ServiceInfo info = ServiceInfo.getDefaultInstance();

  ServiceEntry(String namespace, String service) {
    this.namespace = namespace;
    this.service = service;
  }

  @Override
  public String toString() {
    return namespace + "/" + service;
  }

  /** A subscriber, with its own serial delivery. */
  static final class ListenerHandle {
    final ServiceListener listener;
    final SerialDispatcher<ServiceEvent> dispatcher;
    boolean attached;  // control thread: has been given the initial list (or none was known)

    ListenerHandle(ServiceListener listener, SerialDispatcher<ServiceEvent> dispatcher) {
      this.listener = listener;
      this.dispatcher = dispatcher;
    }
  }
}
