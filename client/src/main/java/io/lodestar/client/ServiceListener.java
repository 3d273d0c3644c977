package io.lodestar.client;

/**
 * Told about changes to one service. Called on the client's listener executor, in revision order,
 * never concurrently for one listener. The first event after {@code subscribe} carries the current
 * list (every instance as added). An exception thrown here is logged and otherwise ignored.
 */
@FunctionalInterface
public interface ServiceListener {
  void onChange(ServiceEvent event);
}
