package io.lodestar.core.kv;

import java.util.Comparator;

/** Names one key of the key/value store: a namespace and a `/`-separated key. Ordered by both. */
public record KvKey(String namespace, String key) implements Comparable<KvKey> {
  private static final Comparator<KvKey> ORDER = Comparator.comparing(KvKey::namespace).thenComparing(KvKey::key);

  @Override
  public int compareTo(KvKey o) {
    return ORDER.compare(this, o);
  }
}
