package io.lodestar.client.governance;

import io.lodestar.client.Instance;
import io.lodestar.client.breaker.CircuitBreaker;
import io.lodestar.client.lb.Endpoint;
import io.lodestar.client.lb.EndpointLoad;

/** One instance as governance sees it: the instance, its live load, and its breaker (or null). */
final class Member implements Endpoint {
  final Instance instance;
  final EndpointLoad load;
  final CircuitBreaker breaker;
  final int weight;

  Member(Instance instance, EndpointLoad load, CircuitBreaker breaker) {
    this.instance = instance;
    this.load = load;
    this.breaker = breaker;
    this.weight = instance.weight();
  }

  @Override
  public String id() {
    return instance.id();
  }

  @Override
  public int weight() {
    return weight;
  }

  @Override
  public EndpointLoad load() {
    return load;
  }
}
