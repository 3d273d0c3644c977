package io.lodestar.grpc;

import io.grpc.ConnectivityState;
import io.grpc.ConnectivityStateInfo;
import io.grpc.EquivalentAddressGroup;
import io.grpc.LoadBalancer;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code lodestar_governance} balancer: one subchannel per Lodestar instance, kept in step with
 * the pushed list, and a {@link GovernancePicker} that asks {@code Governor.choose()} for every call.
 *
 * <p>Design (as grpc's own balancers): every callback runs in the channel's synchronization context,
 * which owns all the mutable state here; the picker is an immutable snapshot of which instances are
 * connected, replaced (one {@code updateBalancingState}) whenever a subchannel's state or the list
 * changes. Removed subchannels are shut down only after the new picker is published, so no call is
 * handed a closed one.
 */
final class GovernanceLoadBalancer extends LoadBalancer {
  private final Helper helper;
  private final Map<String, Tracked> byId = new LinkedHashMap<>();
  private GovernedService governed;
  private Status lastError = Status.UNAVAILABLE.withDescription("no connection yet");

  /** A subchannel and the latest state it reported. */
  private static final class Tracked {
    final Subchannel subchannel;
    final EquivalentAddressGroup group;
    ConnectivityState state = ConnectivityState.IDLE;

    Tracked(Subchannel subchannel, EquivalentAddressGroup group) {
      this.subchannel = subchannel;
      this.group = group;
    }
  }

  GovernanceLoadBalancer(Helper helper) {
    this.helper = helper;
  }

  @Override
  public Status acceptResolvedAddresses(ResolvedAddresses resolved) {
    GovernedService g = resolved.getAttributes().get(GovernedService.KEY);
    if (g == null) {
      Status s = Status.UNAVAILABLE.withDescription(
          "the lodestar_governance balancer needs a lodestar: target (its resolver hands it the governor)");
      handleNameResolutionError(s);
      return s;
    }
    governed = g;
    Map<String, EquivalentAddressGroup> wanted = new LinkedHashMap<>();
    for (EquivalentAddressGroup eag : resolved.getAddresses()) {
      String id = eag.getAttributes().get(GovernedService.INSTANCE_ID);
      wanted.put(id != null ? id : eag.getAddresses().toString(), stripAttributes(eag));
    }
    List<Subchannel> removed = new ArrayList<>();
    for (var it = byId.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      EquivalentAddressGroup now = wanted.get(e.getKey());
      if (now == null || !now.equals(e.getValue().group)) {
        removed.add(e.getValue().subchannel);  // gone, or moved to another address: a new subchannel
        it.remove();
      }
    }
    wanted.forEach((id, eag) -> {
      if (!byId.containsKey(id)) {
        Subchannel sc = helper.createSubchannel(CreateSubchannelArgs.newBuilder().setAddresses(eag).build());
        Tracked t = new Tracked(sc, eag);
        byId.put(id, t);
        sc.start(info -> onState(id, t, info));
        sc.requestConnection();
      }
    });
    publish();
    removed.forEach(Subchannel::shutdown);
    return Status.OK;
  }

  /** Equality of address groups includes attributes; only the addresses decide reuse. */
  private static EquivalentAddressGroup stripAttributes(EquivalentAddressGroup eag) {
    return new EquivalentAddressGroup(eag.getAddresses());
  }

  private void onState(String id, Tracked t, ConnectivityStateInfo info) {
    if (byId.get(id) != t) {
      return;  // a subchannel already replaced
    }
    if (info.getState() == ConnectivityState.SHUTDOWN) {
      return;
    }
    if (info.getState() == ConnectivityState.TRANSIENT_FAILURE) {
      lastError = info.getStatus();
    }
    t.state = info.getState();
    if (t.state == ConnectivityState.IDLE) {
      t.subchannel.requestConnection();  // stay connected to every instance the governor may pick
    }
    publish();
  }

  private void publish() {
    Map<String, Subchannel> ready = new HashMap<>();
    Set<String> connecting = new HashSet<>();
    byId.forEach((id, t) -> {
      if (t.state == ConnectivityState.READY) {
        ready.put(id, t.subchannel);
      } else if (t.state == ConnectivityState.CONNECTING || t.state == ConnectivityState.IDLE) {
        connecting.add(id);
      }
    });
    if (!ready.isEmpty()) {
      helper.updateBalancingState(ConnectivityState.READY, new GovernancePicker(governed, ready, connecting));
    } else if (!connecting.isEmpty()) {
      helper.updateBalancingState(ConnectivityState.CONNECTING, new FixedResultPicker(PickResult.withNoResult()));
    } else {
      helper.updateBalancingState(ConnectivityState.TRANSIENT_FAILURE,
          new FixedResultPicker(PickResult.withError(lastError)));
    }
  }

  @Override
  public void handleNameResolutionError(Status error) {
    if (byId.isEmpty()) {
      helper.updateBalancingState(ConnectivityState.TRANSIENT_FAILURE, new FixedResultPicker(PickResult.withError(error)));
    }
    // otherwise keep serving the instances we have: a registry hiccup is no reason to stop calls
  }

  @Override
  public void shutdown() {
    byId.values().forEach(t -> t.subchannel.shutdown());
    byId.clear();
  }
}
