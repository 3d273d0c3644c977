package io.lodestar.server.xds;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.api.v1.RouteRule;
import java.util.Locale;
import java.util.Map;

/**
 * A service's RouteConfiguration for one class of callers. Route rules become routes in order;
 * their header and method conditions become route matches. Conditions xDS cannot carry are
 * decided here: caller conditions on the node's labels (a rule that does not hold for this
 * caller is left out, one that holds loses the condition), call-label conditions as on a call
 * that carries no labels. Destinations become one cluster or weighted clusters (one cluster per
 * subset). What no rule matches goes to the cluster of every instance, as in the SDK.
 */
final class RouteFactory {
  static final int DEFAULT_WEIGHT = 100;

  private RouteFactory() {}

  /**
   * What in a caller's labels decides its route table: which of the rules with caller conditions
   * hold. Callers with the same key share one generated RouteConfiguration.
   */
  static String callerKey(GovernanceRules rules, Map<String, String> caller) {
    StringBuilder key = new StringBuilder();
    for (RouteRule r : rules.getRoute().getRulesList()) {
      if (r.getMatch().getCallerCount() > 0) {
        key.append(MatchValues.all(r.getMatch().getCallerMap(), caller) ? '1' : '0');
      }
    }
    return key.toString();
  }

  static RouteConfiguration build(String service, GovernanceRules rules, Map<String, String> caller) {
    return RouteConfiguration.newBuilder().setName(service)
        .addVirtualHosts(virtualHost(service, rules, caller, java.util.List.of("*"))).build();
  }

  /** The routes of one service, answering the given domains (Envoy: the service's name as host). */
  static VirtualHost virtualHost(String service, GovernanceRules rules, Map<String, String> caller,
      java.util.List<String> domains) {
    VirtualHost.Builder vh = VirtualHost.newBuilder().setName(service).addAllDomains(domains);
    for (RouteRule r : rules.getRoute().getRulesList()) {
      if (r.getDestinationsCount() == 0
          || !MatchValues.all(r.getMatch().getCallerMap(), caller)
          || !MatchValues.all(r.getMatch().getLabelsMap(), Map.of())) {
        continue;
      }
      RouteMatch match = match(r);
      if (match == null) {
        continue;
      }
      vh.addRoutes(Route.newBuilder().setName(r.getName()).setMatch(match).setRoute(action(service, r, rules)));
    }
    vh.addRoutes(Route.newBuilder().setName("default").setMatch(RouteMatch.newBuilder().setPrefix(""))
        .setRoute(hashed(RouteAction.newBuilder().setCluster(service), rules.getLoadbalance())));
    return vh.build();
  }

  /** The route match of a rule, or null when its method condition cannot be said in xDS (not_in). */
  private static RouteMatch match(RouteRule r) {
    RouteMatch.Builder m = RouteMatch.newBuilder();
    if (r.getMatch().hasMethod()) {
      MatchValue v = r.getMatch().getMethod();
      if (v.getNotInCount() > 0) {
        return null;
      }
      if (v.getRegex().isEmpty() && v.getInCount() == 0 && v.getExact().startsWith("/")) {
        m.setPath(v.getExact());
      } else {
        // a bare method name matches the last segment of the gRPC path /pkg.Service/Method
        String re = !v.getRegex().isEmpty() ? v.getRegex()
            : v.getInCount() > 0 ? alternation(v.getInList()) : quote(v.getExact());
        m.setSafeRegex(RegexMatcher.newBuilder().setRegex(v.getRegex().isEmpty() && !re.startsWith("/")
            ? "(.*/)?" + re : re));
      }
    } else {
      m.setPrefix("");
    }
    for (Map.Entry<String, MatchValue> h : new java.util.TreeMap<>(r.getMatch().getHeadersMap()).entrySet()) {
      m.addHeaders(header(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
    }
    return m.build();
  }

  private static HeaderMatcher header(String name, MatchValue v) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name);
    if (!v.getRegex().isEmpty()) {
      h.setStringMatch(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(v.getRegex())));
    } else if (v.getInCount() > 0) {
      h.setStringMatch(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder()
          .setRegex(alternation(v.getInList()))));
    } else if (v.getNotInCount() > 0) {
      // a call without the header is "not in" anything, as in the SDK
      h.setStringMatch(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder()
          .setRegex(alternation(v.getNotInList())))).setInvertMatch(true).setTreatMissingHeaderAsEmpty(true);
    } else {
      h.setStringMatch(StringMatcher.newBuilder().setExact(v.getExact()));
    }
    return h.build();
  }

  private static RouteAction action(String service, RouteRule r, GovernanceRules rules) {
    RouteAction.Builder a = RouteAction.newBuilder();
    if (r.getDestinationsCount() == 1) {
      a.setCluster(ClusterNames.of(service, r.getDestinations(0).getSubsetMap()));
    } else {
      WeightedCluster.Builder w = WeightedCluster.newBuilder();
      for (Destination d : r.getDestinationsList()) {
        w.addClusters(WeightedCluster.ClusterWeight.newBuilder()
            .setName(ClusterNames.of(service, d.getSubsetMap()))
            .setWeight(UInt32Value.of(d.getWeight() == 0 ? DEFAULT_WEIGHT : d.getWeight())));
      }
      a.setWeightedClusters(w);
    }
    return hashed(a, rules.getLoadbalance()).build();
  }

  /**
   * Consistent hashing needs a key: the rule's hash header, else (gRPC) the channel, so one
   * client sticks to one instance. A hash label has no counterpart on a mesh call.
   */
  private static RouteAction.Builder hashed(RouteAction.Builder a, LoadBalanceRule lb) {
    if (lb.getPolicy() != LoadBalanceRule.Policy.RING_HASH && lb.getPolicy() != LoadBalanceRule.Policy.MAGLEV) {
      return a;
    }
    if (!lb.getHashHeader().isEmpty()) {
      a.addHashPolicy(RouteAction.HashPolicy.newBuilder().setHeader(RouteAction.HashPolicy.Header.newBuilder()
          .setHeaderName(lb.getHashHeader().toLowerCase(Locale.ROOT))));
    } else {
      a.addHashPolicy(RouteAction.HashPolicy.newBuilder().setFilterState(
          RouteAction.HashPolicy.FilterState.newBuilder().setKey("io.grpc.channel_id")));
    }
    return a;
  }

  static String alternation(java.util.List<String> values) {
    StringBuilder sb = new StringBuilder();
    for (String v : values) {
      if (sb.length() > 0) {
        sb.append('|');
      }
      sb.append(quote(v));
    }
    return values.size() == 1 ? sb.toString() : "(" + sb + ")";
  }

  /** Escapes RE2 metacharacters (RE2 and java.util.regex share them). */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (char c : s.toCharArray()) {
      if ("\\.+*?()|[]{}^$".indexOf(c) >= 0) {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }
}
