package io.lodestar.server.xds;

import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.core.naming.ServiceView;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every xDS resource of one service at one revision, generated once and shared by all nodes of
 * the namespace. The Listener and Clusters are the same for every caller. A RouteConfiguration
 * depends on which caller conditions hold, an assignment on the caller's zone and region when
 * nearby routing is on: those are built on first ask per caller class and kept with the rest, so
 * a thousand nodes in three zones cost three builds, not a thousand.
 */
final class ServiceResources {
  private final ServiceView view;
  private final GovernanceRules rules;
  private final XdsResource listener;
  private final Map<String, Map<String, String>> subsets = new LinkedHashMap<>();
  private final Map<String, XdsResource> clusters = new LinkedHashMap<>();
  private final Map<String, XdsResource> routes = new ConcurrentHashMap<>();
  private final Map<String, XdsResource> endpoints = new ConcurrentHashMap<>();

  ServiceResources(ServiceView view) {
    this.view = view;
    this.rules = view.info().getRules();
    String service = view.key().service();
    this.listener = XdsResource.of(service, ListenerFactory.apiListener(service, rules));
    subsets.put(service, Map.of());
    for (RouteRule r : rules.getRoute().getRulesList()) {
      for (Destination d : r.getDestinationsList()) {
        subsets.putIfAbsent(ClusterNames.of(service, d.getSubsetMap()), Map.copyOf(d.getSubsetMap()));
      }
    }
    for (String name : subsets.keySet()) {
      clusters.put(name, XdsResource.of(name, ClusterFactory.build(name, rules)));
    }
  }

  String service() {
    return view.key().service();
  }

  long revision() {
    return view.revision();
  }

  XdsResource listener() {
    return listener;
  }

  GovernanceRules rules() {
    return rules;
  }

  Collection<XdsResource> clusters() {
    return clusters.values();
  }

  /** The cluster of that name, or null. */
  XdsResource cluster(String name) {
    return clusters.get(name);
  }

  XdsResource route(XdsNode node) {
    return routes.computeIfAbsent(RouteFactory.callerKey(rules, node.labels()),
        k -> XdsResource.of(service(), RouteFactory.build(service(), rules, node.labels())));
  }

  /** The assignment of one of this service's clusters for this caller, or null if no such cluster. */
  XdsResource endpoints(String clusterName, XdsNode node) {
    Map<String, String> subset = subsets.get(clusterName);
    if (subset == null) {
      return null;
    }
    String key = clusterName + "\n\n" + EndpointFactory.callerKey(rules.getRoute(), node.labels());
    return endpoints.computeIfAbsent(key, k -> XdsResource.of(clusterName,
        EndpointFactory.build(clusterName, view, subset, rules.getRoute(), node.labels())));
  }
}
