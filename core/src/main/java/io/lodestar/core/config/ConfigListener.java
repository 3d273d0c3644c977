package io.lodestar.core.config;

/** Told, on the applying thread, of every config a batch changed. Must not block. */
@FunctionalInterface
public interface ConfigListener {
  void onConfigChanged(ConfigView view);
}
