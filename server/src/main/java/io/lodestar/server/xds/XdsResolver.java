package io.lodestar.server.xds;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Finds the resources a node subscribed to, in the catalog (and, for Envoy, its own listeners). */
final class XdsResolver {
  private final XdsCatalog catalog;

  XdsResolver(XdsCatalog catalog) {
    this.catalog = catalog;
  }

  List<XdsResource> resolve(XdsNode node, XdsType type, Set<String> names, boolean wildcard) {
    String ns = node.namespace();
    List<XdsResource> out = new ArrayList<>();
    switch (type) {
      case LISTENER -> {
        if (wildcard && node.envoy()) {
          out.addAll(EnvoyResources.listeners(node));
        } else if (wildcard) {
          for (ServiceResources r : catalog.all(ns)) {
            out.add(r.listener());
          }
        }
        for (String name : names) {
          ServiceResources r = catalog.get(ns, name);
          if (r != null) {
            out.add(r.listener());
          }
        }
      }
      case ROUTE -> {
        for (String name : names) {
          if (name.equals(EnvoyResources.OUTBOUND_ROUTE) && node.envoy()) {
            out.add(EnvoyResources.outboundRoutes(node, catalog.all(ns)));
            continue;
          }
          ServiceResources r = catalog.get(ns, name);
          if (r != null) {
            out.add(r.route(node));
          }
        }
      }
      case CLUSTER -> {
        if (wildcard) {
          for (ServiceResources r : catalog.all(ns)) {
            out.addAll(r.clusters());
          }
          if (node.envoy()) {
            out.addAll(EnvoyResources.localClusters(node));
          }
        }
        for (String name : names) {
          ServiceResources r = catalog.get(ns, ClusterNames.service(name));
          XdsResource c = r == null ? null : r.cluster(name);
          if (c != null) {
            out.add(c);
          }
        }
      }
      case ENDPOINT -> {
        for (String name : names) {
          ServiceResources r = catalog.get(ns, ClusterNames.service(name));
          XdsResource e = r == null ? null : r.endpoints(name, node);
          if (e != null) {
            out.add(e);
          }
        }
      }
      default -> throw new IllegalStateException("unknown type " + type);
    }
    return dedupe(out);
  }

  /** A name asked for both by wildcard and by name is sent once. */
  private static List<XdsResource> dedupe(List<XdsResource> resources) {
    java.util.Map<String, XdsResource> byName = new java.util.LinkedHashMap<>();
    for (XdsResource r : resources) {
      byName.putIfAbsent(r.name(), r);
    }
    return new ArrayList<>(byName.values());
  }
}
