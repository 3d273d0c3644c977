package io.lodestar.bench.compare;

import java.util.Set;
import java.util.function.Consumer;

/** One application's client of a peer. Methods may be called from several threads. */
interface PeerClient extends AutoCloseable {
  /** Registers a live instance and returns once the server has acknowledged it. */
  void register(Inst instance) throws Exception;

  /** Removes an instance this client registered; returns once acknowledged. */
  void deregister(Inst instance) throws Exception;

  /**
   * Watches a service the way the peer's own clients do (etcd watch, ZooKeeper watch through
   * Curator, Eureka polling, Lodestar push). {@code onChange} gets the ids of the service's
   * instances as this client sees them, each time that view changes (duplicates are harmless);
   * it must be cheap and is called from the client's threads.
   */
  AutoCloseable watch(String service, Consumer<Set<String>> onChange) throws Exception;

  /**
   * One uncached read of a service's instances over the wire, bypassing any client-side cache;
   * returns the number of instances read.
   */
  int read(String service) throws Exception;

  @Override
  void close() throws Exception;
}
