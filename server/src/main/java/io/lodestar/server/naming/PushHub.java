package io.lodestar.server.naming;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.RegistryListener;
import io.lodestar.core.naming.ServiceChange;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.push.FanOut;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Fans service changes out to subscribed streams, on the {@link FanOut} core (thread
 * {@code lodestar-push}). A subscriber at the change's base revision gets the delta (built once,
 * shared by all such subscribers); anyone else, and anyone catching up after being slow, gets a
 * snapshot of the latest state.
 *
 * <p>A snapshot is the same bytes for everyone who asks for it at one revision, so it is rendered
 * once per view ({@link ServiceView#wire}) and every fetch and snapshot push of that view sends
 * those bytes as they are.
 */
public final class PushHub implements RegistryListener, AutoCloseable {
  private final Registry registry;
  private final FanOut<ServiceKey, ServiceChange, FanOut.Target> fanOut;
  private final Counter deltas;
  private final Counter snapshots;

  public PushHub(Registry registry, MeterRegistry meters) {
    this.registry = registry;
    this.deltas = Counter.builder("lodestar.push.updates").description("service updates sent to subscribers")
        .tag("kind", "delta").register(meters);
    this.snapshots = Counter.builder("lodestar.push.updates").description("service updates sent to subscribers")
        .tag("kind", "snapshot").register(meters);
    this.fanOut = new FanOut<>("lodestar-push", new Services());
    meters.gauge("lodestar.push.subscriptions", fanOut, FanOut::subscriptionCount);
  }

  /**
   * Follows a service. A service that does not exist yet is followed (it may appear); a namespace
   * that does not exist is refused, as REST answers 404 for it.
   *
   * @throws io.lodestar.core.LodestarException not_found when the namespace does not exist
   */
  public void subscribe(FanOut.Target target, ServiceKey key, long knownRevision) {
    registry.requireNamespace(key.namespace());
    fanOut.subscribe(target, key, knownRevision);
  }

  public void unsubscribe(FanOut.Target target, ServiceKey key) {
    fanOut.unsubscribe(target, key);
  }

  /** The stream ended: forget all its subscriptions. */
  public void remove(FanOut.Target target) {
    fanOut.remove(target);
  }

  /** The stream can take more: catch up every subscription that was skipped while it could not. */
  public void onReady(FanOut.Target target) {
    fanOut.onReady(target);
  }

  @Override
  public void onServiceChanged(ServiceChange change) {
    fanOut.publish(change);
  }

  /** The fan-out core (tests drive its sweep and wait for it). */
  FanOut<ServiceKey, ServiceChange, FanOut.Target> fanOut() {
    return fanOut;
  }

  /** Service changes as a fan-out payload: positions are revisions. */
  private final class Services implements FanOut.Payload<ServiceKey, ServiceChange, FanOut.Target> {
    @Override
    public ServiceKey keyOf(ServiceChange change) {
      return change.key();
    }

    @Override
    public ServiceChange merge(ServiceChange earlier, ServiceChange later) {
      return PushHub.merge(earlier, later);
    }

    @Override
    public long subscribe(FanOut.Target target, ServiceKey key, long known) {
      ServiceView view = currentView(key);
      if (known != 0 && known == view.revision()) {
        // Already current (a reconnect): an empty delta says so.
        target.send(update(ServiceUpdate.newBuilder().setNamespace(key.namespace()).setService(key.service())
            .setRevision(known).setBaseRevision(known).build()));
        deltas.increment();
        return known;
      }
      return sendSnapshot(target, view);
    }

    @Override
    public long catchUp(FanOut.Target target, ServiceKey key, long sent) {
      return sendSnapshot(target, currentView(key));
    }

    @Override
    public FanOut.Delivery<FanOut.Target> prepare(ServiceChange change) {
      ServiceView view = change.view();
      long base = change.previousRevision();
      return new FanOut.Delivery<>() {
        ServerMessage delta;
        ServerMessage snapshot;

        @Override
        public boolean needs(long sent) {
          return base == 0 || sent < view.revision(); // else its snapshot already had this change
        }

        @Override
        public long send(FanOut.Target t, long sent) {
          if (base != 0 && sent == base) {
            if (delta == null) {
              ServiceUpdate.Builder u = ServiceUpdate.newBuilder().setNamespace(view.key().namespace())
                  .setService(view.key().service()).setRevision(view.revision()).setBaseRevision(base)
                  .addAllInstances(change.upserts()).addAllRemovedIds(change.removedIds())
                  .setEmptiedByExpiry(view.emptiedByExpiry());
              if (change.infoChanged()) {
                u.setInfo(view.info());
              }
              // rendered once: every subscriber's stream sends these bytes without encoding them again
              delta = carrying(0, ServerMessage.UPDATE_FIELD_NUMBER, u.build().toByteString());
            }
            t.send(delta);
            deltas.increment();
          } else {
            if (snapshot == null) {
              snapshot = carrying(0, ServerMessage.UPDATE_FIELD_NUMBER, snapshotWire(view));
            }
            t.send(snapshot);
            snapshots.increment();
          }
          return view.revision();
        }
      };
    }

    private long sendSnapshot(FanOut.Target target, ServiceView view) {
      target.send(carrying(0, ServerMessage.UPDATE_FIELD_NUMBER, snapshotWire(view)));
      snapshots.increment();
      return view.revision();
    }
  }

  /** Two consecutive changes of one service as one: the later state, the union of what changed. */
  static ServiceChange merge(ServiceChange a, ServiceChange b) {
    boolean consecutive = a.previousRevision() != 0 && b.previousRevision() == a.view().revision();
    LinkedHashMap<String, Instance> upserts = new LinkedHashMap<>();
    a.upserts().forEach(i -> upserts.put(i.getId(), i));
    LinkedHashSet<String> removed = new LinkedHashSet<>(a.removedIds());
    for (String id : b.removedIds()) {
      upserts.remove(id);
      removed.add(id);
    }
    for (Instance i : b.upserts()) {
      upserts.put(i.getId(), i);
      removed.remove(i.getId());
    }
    return new ServiceChange(consecutive ? a.previousRevision() : 0, b.view(), List.copyOf(upserts.values()),
        List.copyOf(removed), a.infoChanged() || b.infoChanged(), b.deleted(),
        a.unboundRemovals() || b.unboundRemovals());
  }

  /**
   * The answer to a fetch outside any subscription: a snapshot of the service's current state;
   * any thread (views are immutable and published whole).
   *
   * @throws io.lodestar.core.LodestarException when the namespace does not exist
   */
  public ServerMessage fetched(long requestId, ServiceKey key) {
    registry.requireNamespace(key.namespace());
    return carrying(requestId, ServerMessage.FETCHED_FIELD_NUMBER, snapshotWire(currentView(key)));
  }

  /** A service's current view; a service that does not exist is an empty one at revision 0. */
  private ServiceView currentView(ServiceKey key) {
    ServiceView v = registry.view(key.namespace(), key.service());
    return v != null ? v : new ServiceView(key, ServiceInfo.newBuilder().setNamespace(key.namespace())
        .setName(key.service()).build(), 0, List.<Instance>of());
  }

  /** A view's snapshot ({@code ServiceUpdate}) as bytes, rendered once per view. */
  private static ByteString snapshotWire(ServiceView view) {
    return view.wire(PushHub::renderSnapshot);
  }

  private static ByteString renderSnapshot(ServiceView view) {
    ServiceUpdate.Builder u = ServiceUpdate.newBuilder().setNamespace(view.key().namespace())
        .setService(view.key().service()).setRevision(view.revision()).setSnapshot(true).setInfo(view.info())
        .setEmptiedByExpiry(view.emptiedByExpiry());
    view.forEachInstance(u::addInstances); // rendered for the bytes, not kept with the view
    return u.build().toByteString();
  }

  /**
   * A server message whose body is an already-rendered message: the bytes go out as they are
   * (one copy into the frame, no re-encoding). They ride as the message's unknown field of the
   * body's number, which on the wire is exactly the encoding of that field set normally, so a
   * client reads a plain {@code update} or {@code fetched}.
   */
  private static ServerMessage carrying(long requestId, int bodyField, ByteString body) {
    return ServerMessage.newBuilder().setRequestId(requestId).setUnknownFields(UnknownFieldSet.newBuilder()
        .addField(bodyField, UnknownFieldSet.Field.newBuilder().addLengthDelimited(body).build()).build()).build();
  }

  private static ServerMessage update(ServiceUpdate u) {
    return ServerMessage.newBuilder().setUpdate(u).build();
  }

  @Override
  public void close() {
    fanOut.close();
  }
}
