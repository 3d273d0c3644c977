package io.lodestar.core.config;

import io.lodestar.core.Validation;
import java.util.Comparator;

/** Names one config: namespace → group → name. */
public record ConfigKey(String namespace, String group, String name) implements Comparable<ConfigKey> {
  private static final Comparator<ConfigKey> ORDER = Comparator.comparing(ConfigKey::namespace)
      .thenComparing(ConfigKey::group).thenComparing(ConfigKey::name);

  /** Checks each part, naming the one at fault. */
  public static ConfigKey of(String namespace, String group, String name) {
    Validation.name("namespace", namespace);
    Validation.name("group", group);
    Validation.name("name", name);
    return new ConfigKey(namespace, group, name);
  }

  @Override
  public int compareTo(ConfigKey o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return namespace + "/" + group + "/" + name;
  }
}
