package io.lodestar.client.lb;

/** What a balancer needs of one instance: a stable id (hash balancers), a weight and its load. */
public interface Endpoint {
  String id();

  /** Static weight, 0–10000; 0 is never picked unless every endpoint has weight 0. */
  int weight();

  EndpointLoad load();
}
