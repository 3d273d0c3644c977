package io.lodestar.core.naming;

/** Told, on the applying thread, of every service a batch changed. Must not block. */
@FunctionalInterface
public interface RegistryListener {
  void onServiceChanged(ServiceChange change);
}
