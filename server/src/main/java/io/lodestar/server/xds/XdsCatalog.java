package io.lodestar.server.xds;

import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceKey;
import io.lodestar.core.naming.ServiceView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generated resources of every service some node asked for. A change drops a service's
 * entry; the next ask (the push that follows the change) rebuilds it from the registry's current
 * view, once, for every node. Services no xDS node asks about cost nothing.
 */
final class XdsCatalog {
  private final Registry registry;
  private final Map<ServiceKey, ServiceResources> byKey = new ConcurrentHashMap<>();

  XdsCatalog(Registry registry) {
    this.registry = registry;
  }

  /** The service's resources, or null if the service does not exist. */
  ServiceResources get(String namespace, String service) {
    ServiceKey key = new ServiceKey(namespace, service);
    ServiceResources r = byKey.get(key);
    if (r != null) {
      return r;
    }
    ServiceView view = registry.view(namespace, service);
    if (view == null) {
      return null;
    }
    r = new ServiceResources(view);
    byKey.put(key, r);
    return r;
  }

  List<ServiceResources> all(String namespace) {
    List<ServiceResources> out = new ArrayList<>();
    for (ServiceView v : registry.views(namespace)) {
      ServiceResources r = get(namespace, v.key().service());
      if (r != null) {
        out.add(r);
      }
    }
    return out;
  }

  void invalidate(ServiceKey key) {
    byKey.remove(key);
  }
}
