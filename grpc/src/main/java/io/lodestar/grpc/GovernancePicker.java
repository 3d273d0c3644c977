package io.lodestar.grpc;

import io.grpc.LoadBalancer;
import io.grpc.Status;
import io.lodestar.client.Instance;
import io.lodestar.client.governance.GovernanceException;
import io.lodestar.client.route.CallContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Picks with {@code Governor.choose()}: routing rules (on the call's method and metadata, and the
 * caller's labels), breaker ejection and the configured balancer decide the instance; this maps it
 * to its connected subchannel. Immutable apart from a round-robin counter.
 *
 * <p>When the chosen instance is still connecting, the call waits for it (the channel re-picks
 * with the next picker), so a route rule is obeyed from the first call. When it cannot be reached
 * at all, that is reported to its breaker as a failure and the call goes to a connected instance.
 */
final class GovernancePicker extends LoadBalancer.SubchannelPicker {
  private final GovernedService governed;
  private final Map<String, LoadBalancer.Subchannel> ready;
  private final Set<String> connecting;
  private final List<LoadBalancer.Subchannel> readyList;
  private final AtomicInteger next = new AtomicInteger();

  GovernancePicker(GovernedService governed, Map<String, LoadBalancer.Subchannel> ready, Set<String> connecting) {
    this.governed = governed;
    this.ready = Map.copyOf(ready);
    this.connecting = Set.copyOf(connecting);
    this.readyList = new ArrayList<>(ready.values());
  }

  @Override
  public LoadBalancer.PickResult pickSubchannel(LoadBalancer.PickSubchannelArgs args) {
    CallRecord record = args.getCallOptions().getOption(CallRecord.KEY);
    CallContext ctx = record != null && record.context != null ? record.context
        : GrpcCallContexts.of(args.getMethodDescriptor(), args.getHeaders());
    Instance chosen;
    try {
      chosen = governed.governor().choose(governed.namespace(), governed.service(), ctx);
    } catch (GovernanceException e) {
      return LoadBalancer.PickResult.withError(Status.UNAVAILABLE.withDescription(
          "lodestar " + e.reason() + ": " + e.getMessage()));
    }
    // a lane rule's match put the call in a lane at this entry hop: the header carries it onwards
    // (a picker may add headers before it returns, PickSubchannelArgs.getHeaders)
    if (!args.getHeaders().containsKey(LodestarServerInterceptor.LANE_HEADER)) {
      String lane = governed.governor().lane(governed.namespace(), governed.service(), ctx);
      if (lane != null) {
        args.getHeaders().put(LodestarServerInterceptor.LANE_HEADER, lane);
      }
    }
    LoadBalancer.Subchannel sc = ready.get(chosen.id());
    if (sc != null) {
      if (record != null) {
        record.chose(governed.governor(), chosen);
      }
      return LoadBalancer.PickResult.withSubchannel(sc);
    }
    if (connecting.contains(chosen.id())) {
      return LoadBalancer.PickResult.withNoResult();
    }
    // chosen but unreachable (connection failed) or not in this channel's list yet
    governed.governor().report(chosen, ctx, io.lodestar.client.governance.ErrorKind.UNAVAILABLE, 0);
    if (record != null) {
      record.chose(null, null);
    }
    return LoadBalancer.PickResult.withSubchannel(readyList.get(Math.floorMod(next.getAndIncrement(), readyList.size())));
  }
}
