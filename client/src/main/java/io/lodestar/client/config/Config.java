package io.lodestar.client.config;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Objects;
import java.util.Properties;

/**
 * One version of a config as this client holds it. Immutable.
 *
 * <p>{@link #exists()} is false for a config that does not exist (or was deleted); its content is
 * then empty. {@link #fromCache()} is true when no server was reachable and the content comes
 * from the failover cache on disk: the last version this application saw.
 */
public final class Config {
  private final String namespace;
  private final String group;
  private final String name;
  private final long version;
  private final String format;
  private final String content;
  private final String hash;
  private final boolean exists;
  private final boolean gray;
  private final boolean fromCache;
  private final Instant updatedAt;

  public Config(String namespace, String group, String name, long version, String format, String content,
      String hash, boolean exists, boolean gray, boolean fromCache, Instant updatedAt) {
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.group = Objects.requireNonNull(group, "group");
    this.name = Objects.requireNonNull(name, "name");
    this.version = version;
    this.format = Objects.requireNonNull(format, "format");
    this.content = Objects.requireNonNull(content, "content");
    this.hash = Objects.requireNonNull(hash, "hash");
    this.exists = exists;
    this.gray = gray;
    this.fromCache = fromCache;
    this.updatedAt = Objects.requireNonNull(updatedAt, "updatedAt");
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

  /** The version; grows with every change, including a delete. 0 when the config never existed. */
  public long version() {
    return version;
  }

  /** {@code text}, {@code properties}, {@code yaml} or {@code json}. */
  public String format() {
    return format;
  }

  /** The raw content (UTF-8 text); empty when the config does not exist. */
  public String content() {
    return content;
  }

  /** The server's content hash (hex). */
  public String hash() {
    return hash;
  }

  public boolean exists() {
    return exists;
  }

  /** True when this is a gray candidate chosen for this client (by its labels, address or id). */
  public boolean gray() {
    return gray;
  }

  /** True when no server was reachable and this came from the failover cache on disk. */
  public boolean fromCache() {
    return fromCache;
  }

  public Instant updatedAt() {
    return updatedAt;
  }

  /**
   * The content read as a {@code .properties} file (whatever the declared format; meaningful for
   * {@code properties}). YAML and JSON are offered raw: parse {@link #content()} with the
   * application's own library, which keeps the SDK free of parser dependencies.
   */
  public Properties asProperties() {
    Properties p = new Properties();
    try {
      p.load(new StringReader(content));
    } catch (IOException e) {
      throw new UncheckedIOException(e);  // a StringReader does not fail
    }
    return p;
  }

  @Override
  public String toString() {
    return namespace + "/" + group + "/" + name + " v" + version + (exists ? "" : " (absent)") + (gray ? " (gray)" : "")
        + (fromCache ? " (from cache)" : "");
  }
}
