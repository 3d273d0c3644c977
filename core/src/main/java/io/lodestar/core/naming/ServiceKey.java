package io.lodestar.core.naming;

/** Namespace and service name: the unit of revisions, subscriptions and pushes. */
public record ServiceKey(String namespace, String service) implements Comparable<ServiceKey> {
  @Override
  public int compareTo(ServiceKey o) {
    int c = namespace.compareTo(o.namespace);
    return c != 0 ? c : service.compareTo(o.service);
  }

  @Override
  public String toString() {
    return namespace + "/" + service;
  }
}
