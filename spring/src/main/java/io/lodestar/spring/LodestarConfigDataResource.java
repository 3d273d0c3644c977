package io.lodestar.spring;

import java.util.Objects;
import org.springframework.boot.context.config.ConfigDataResource;

/** One {@code lodestar:{group}/{name}} import: a config of the application's namespace (or {@code ?namespace=}). */
public final class LodestarConfigDataResource extends ConfigDataResource {
  private final String namespace;
  private final String group;
  private final String name;
  private final boolean optional;

  LodestarConfigDataResource(String namespace, String group, String name, boolean optional) {
    super(optional);
    this.optional = optional;
    this.namespace = namespace;
    this.group = group;
    this.name = name;
  }

  public String namespace() {
    return namespace;
  }

  public String group() {
    return group;
  }

  public String name() {
    return name;
  }

  /**
   * An import skipped because {@code lodestar.config.enabled=false}: it loads as nothing, and it is
   * marked optional so that Spring does not report a required location as missing.
   */
  static LodestarConfigDataResource skipped(String spec) {
    return new LodestarConfigDataResource("", "", spec, true);
  }

  boolean isSkipped() {
    return group.isEmpty();
  }

  /** Imported with {@code optional:}. */
  public boolean optional() {
    return optional;
  }

  /** The config's key, which also names its property source. */
  String key() {
    return namespace + "/" + group + "/" + name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LodestarConfigDataResource r && r.namespace.equals(namespace) && r.group.equals(group)
        && r.name.equals(name);
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespace, group, name);
  }

  @Override
  public String toString() {
    return "lodestar:" + key();
  }
}
