package io.lodestar.client.governance;

import io.lodestar.client.Instance;

/** A call to one chosen instance, which may throw. */
@FunctionalInterface
public interface InstanceCall<T> {
  T call(Instance instance) throws Exception;
}
