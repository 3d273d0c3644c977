package io.lodestar.server.xds;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.lodestar.api.v1.Instance;
import io.lodestar.core.governance.Subsets;
import io.lodestar.api.v1.Nearby;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A cluster's ClusterLoadAssignment: the instances the SDK would use, grouped so that grpc-xds
 * honours what it otherwise drops.
 *
 * <ul>
 *   <li>Healthy instances only, unless the protection threshold applies (then all, as for the SDK).
 *   <li>Weight 0 is left out (grpc-xds counts an endpoint weight of 0 as 1).
 *   <li>grpc's round_robin ignores endpoint weights and splits only by locality weight, so
 *       instances are grouped into localities by (region, zone, weight): sub_zone {@code w<weight>},
 *       locality weight = weight × members. Within a locality all weights are equal, so round
 *       robin there is exact. Every locality has a weight (grpc-xds drops one without).
 *   <li>Nearby routing: the caller's zone is priority 0, the rest of its region priority 1, the
 *       rest priority 2, each only while its healthy share holds, as the SDK's nearby router.
 *   <li>An empty subset falls back to every instance unless the route rules say {@code fail}.
 * </ul>
 */
final class EndpointFactory {
  private EndpointFactory() {}

  /** The part of a caller's labels that changes its assignment (nothing unless nearby is on). */
  static String callerKey(RouteRules route, Map<String, String> caller) {
    Nearby n = route.getNearby();
    if (!n.getEnabled()) {
      return "";
    }
    return caller.getOrDefault(zoneKey(n), "") + "\n" + caller.getOrDefault(regionKey(n), "");
  }

  static ClusterLoadAssignment build(String name, ServiceView view, Map<String, String> subset,
      RouteRules route, Map<String, String> caller) {
    List<Instance> usable = view.healthy().instances();
    List<Instance> members = Subsets.members(view.instances(), subset);
    if (!subset.isEmpty() && Subsets.members(usable, subset).isEmpty() && route.getFallback() != RouteRules.Fallback.FAIL) {
      members = view.instances();
    }
    Set<String> usableIds = new HashSet<>();
    for (Instance i : usable) {
      usableIds.add(i.getId());
    }
    Nearby n = route.getNearby();
    String zoneKey = zoneKey(n);
    String regionKey = regionKey(n);
    List<List<Instance>> tiers = new ArrayList<>();
    List<Instance> rest = new ArrayList<>(members);
    if (n.getEnabled()) {
      double minShare = n.getMinHealthyShare() <= 0 ? 0.5 : n.getMinHealthyShare();
      String zone = caller.get(zoneKey);
      String region = caller.get(regionKey);
      if (zone != null) {
        takeTier(rest, tiers, i -> zone.equals(i.getMetadataMap().get(zoneKey))
            && (region == null || !i.getMetadataMap().containsKey(regionKey)
                || region.equals(i.getMetadataMap().get(regionKey))), minShare);
      }
      if (region != null) {
        takeTier(rest, tiers, i -> region.equals(i.getMetadataMap().get(regionKey)), minShare);
      }
    }
    tiers.add(rest);
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
    int priority = 0;
    for (List<Instance> tier : tiers) {
      List<LocalityLbEndpoints> localities = localities(tier, usableIds, regionKey, zoneKey, priority);
      if (!localities.isEmpty()) {
        cla.addAllEndpoints(localities);
        priority++;
      }
    }
    return cla.build();
  }

  /** Moves a tier's members out of {@code rest} if its healthy share holds. */
  private static void takeTier(List<Instance> rest, List<List<Instance>> tiers,
      java.util.function.Predicate<Instance> inTier, double minShare) {
    List<Instance> tier = new ArrayList<>();
    int healthy = 0;
    for (Instance i : rest) {
      if (inTier.test(i)) {
        tier.add(i);
        if (i.getHealth() != io.lodestar.api.v1.HealthStatus.UNHEALTHY) {
          healthy++;
        }
      }
    }
    if (healthy > 0 && (double) healthy / tier.size() >= minShare) {
      rest.removeAll(tier);
      tiers.add(tier);
    }
  }

  private static List<LocalityLbEndpoints> localities(List<Instance> tier, Set<String> usableIds, String regionKey,
      String zoneKey, int priority) {
    // (region, zone, weight) -> endpoints; sorted so the same state always gives the same bytes
    Map<List<String>, List<Instance>> groups = new TreeMap<>((a, b) -> String.join("\n", a).compareTo(String.join("\n", b)));
    for (Instance i : tier) {
      int weight = i.hasWeight() ? i.getWeight() : Registry.DEFAULT_WEIGHT;
      if (weight == 0 || !usableIds.contains(i.getId())) {
        continue;
      }
      List<String> key = List.of(i.getMetadataMap().getOrDefault(regionKey, ""),
          i.getMetadataMap().getOrDefault(zoneKey, ""), String.format("w%05d", weight));
      groups.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
    }
    List<LocalityLbEndpoints> out = new ArrayList<>();
    for (Map.Entry<List<String>, List<Instance>> g : groups.entrySet()) {
      List<Instance> members = new ArrayList<>(g.getValue());
      members.sort(java.util.Comparator.comparing(Instance::getId));
      int weight = Integer.parseInt(g.getKey().get(2).substring(1));
      LocalityLbEndpoints.Builder l = LocalityLbEndpoints.newBuilder()
          .setLocality(Locality.newBuilder().setRegion(g.getKey().get(0)).setZone(g.getKey().get(1))
              .setSubZone("w" + weight))
          .setLoadBalancingWeight(UInt32Value.of(weight * members.size()))
          .setPriority(priority);
      for (Instance i : members) {
        l.addLbEndpoints(LbEndpoint.newBuilder()
            .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(i.getHost()).setPortValue(i.getPort()))))
            // under protection an unhealthy instance is served too, as "unknown" (still used)
            .setHealthStatus(i.getHealth() == io.lodestar.api.v1.HealthStatus.UNHEALTHY
                ? HealthStatus.UNKNOWN : HealthStatus.HEALTHY)
            .setLoadBalancingWeight(UInt32Value.of(weight)));
      }
      out.add(l.build());
    }
    return out;
  }

  private static String zoneKey(Nearby n) {
    return n.getZoneKey().isEmpty() ? "zone" : n.getZoneKey();
  }

  private static String regionKey(Nearby n) {
    return n.getRegionKey().isEmpty() ? "region" : n.getRegionKey();
  }
}
