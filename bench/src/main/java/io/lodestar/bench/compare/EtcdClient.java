package io.lodestar.bench.compare;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One application on etcd, as service discovery on etcd is usually built: one lease per process,
 * kept alive by jetcd, every instance a key {@code /services/<service>/<id>} attached to it, and
 * watchers that read the prefix once and then follow it from the next revision.
 */
final class EtcdClient implements PeerClient {
  private static final long LEASE_TTL_SECONDS = 10;
  /** Bounds every call, so a stuck server fails the benchmark instead of hanging it. */
  private static final long TIMEOUT_SECONDS = 30;

  private final Client client;
  private final long leaseId;
  private final CloseableClient keepAlive;
  private final Consumer<EtcdClient> onClose;
  private final Set<Watch.Watcher> watchers = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  EtcdClient(String endpoint, Consumer<EtcdClient> onClose) throws Exception {
    this.onClose = onClose;
    client = Client.builder().endpoints(endpoint).build();
    try {
      leaseId = client.getLeaseClient().grant(LEASE_TTL_SECONDS).get(TIMEOUT_SECONDS, TimeUnit.SECONDS).getID();
      keepAlive = client.getLeaseClient().keepAlive(leaseId, new StreamObserver<>() {
        @Override
        public void onNext(LeaseKeepAliveResponse response) {}

        @Override
        public void onError(Throwable t) {
          // The lease lapses and takes this client's instances with it: the numbers would be wrong.
          System.err.println("etcd: keep-alive of lease " + Long.toHexString(leaseId) + " failed: " + t);
        }

        @Override
        public void onCompleted() {}
      });
    } catch (Exception e) {
      client.close();
      throw e;
    }
  }

  @Override
  public void register(Inst instance) throws Exception {
    client.getKVClient()
        .put(key(instance), ByteSequence.from(instance.json(), StandardCharsets.UTF_8),
            PutOption.builder().withLeaseId(leaseId).build())
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public void deregister(Inst instance) throws Exception {
    client.getKVClient().delete(key(instance)).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public AutoCloseable watch(String service, Consumer<Set<String>> onChange) throws Exception {
    ByteSequence prefix = prefix(service);
    GetResponse snapshot = client.getKVClient().get(prefix, GetOption.builder().isPrefix(true).build())
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Set<String> ids = new HashSet<>();
    for (KeyValue kv : snapshot.getKvs()) {
      ids.add(id(kv.getKey()));
    }
    onChange.accept(Set.copyOf(ids));
    // From the snapshot's next revision: no change between the get and the watch is missed.
    WatchOption option = WatchOption.builder().isPrefix(true)
        .withRevision(snapshot.getHeader().getRevision() + 1).build();
    Watch.Watcher watcher = client.getWatchClient().watch(prefix, option, Watch.listener(response -> {
      if (response.getEvents().isEmpty()) {
        return; // progress notification
      }
      synchronized (ids) {
        for (WatchEvent event : response.getEvents()) {
          String id = id(event.getKeyValue().getKey());
          if (event.getEventType() == WatchEvent.EventType.DELETE) {
            ids.remove(id);
          } else {
            ids.add(id);
          }
        }
        onChange.accept(Set.copyOf(ids));
      }
    }, error -> System.err.println("etcd: watch of " + service + " failed: " + error)));
    watchers.add(watcher);
    return () -> {
      watchers.remove(watcher);
      watcher.close();
    };
  }

  @Override
  public int read(String service) throws Exception {
    // jetcd's default range read is linearizable (serializable=false): it goes through the leader.
    return client.getKVClient().get(prefix(service), GetOption.builder().isPrefix(true).build())
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS).getKvs().size();
  }

  /** Revokes the lease, as a cleanly stopping application does, so its instances go at once. */
  @Override
  public void close() throws Exception {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      watchers.forEach(Watch.Watcher::close);
      keepAlive.close();
      client.getLeaseClient().revoke(leaseId).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } finally {
      client.close();
      onClose.accept(this);
    }
  }

  private static ByteSequence prefix(String service) {
    // The trailing slash keeps service "a" from matching "ab"'s keys.
    return ByteSequence.from("/services/" + service + "/", StandardCharsets.UTF_8);
  }

  private static ByteSequence key(Inst instance) {
    return ByteSequence.from("/services/" + instance.service() + "/" + instance.id(), StandardCharsets.UTF_8);
  }

  private static String id(ByteSequence key) {
    String path = key.toString(StandardCharsets.UTF_8);
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
