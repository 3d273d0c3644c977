package io.lodestar.core.kv;

/** Told, on the applying thread at the end of a batch, which namespaces' keys changed. */
public interface KvListener {
  void onKvChanged(String namespace);
}
