package io.lodestar.client.config;

/**
 * The config centre as the SDK sees it: {@code client.configs()}.
 *
 * <pre>{@code
 * Config db = client.configs().get("default", "orders", "db.properties");
 * String url = db.asProperties().getProperty("url");
 * client.configs().addListener("default", "orders", "db.properties", c -> reconnect(c.asProperties()));
 * }</pre>
 *
 * <p>The first use of a config subscribes to it on the client's stream; from then on the client
 * holds its latest version, and {@link #get} is a lock-free read. With a failover cache directory
 * configured, every config the application uses is also kept on disk, so that an application that
 * starts while no server is reachable gets the last known version ({@link Config#fromCache()}).
 */
public interface ConfigService {
  /**
   * The config as this client should use it (the release, or a gray candidate chosen for it).
   * The first call for a config waits, up to the request timeout, for the server or the failover
   * cache. A config that does not exist comes back with {@link Config#exists()} false.
   *
   * @throws io.lodestar.client.LodestarClientException on timeout, when neither a server nor the
   *     failover cache could answer, or when the names are invalid
   */
  Config get(String namespace, String group, String name);

  /** The content, or {@code defaultContent} when the config does not exist. */
  default String getContent(String namespace, String group, String name, String defaultContent) {
    Config c = get(namespace, group, name);
    return c.exists() ? c.content() : defaultContent;
  }

  /** Adds a listener (see {@link ConfigListener} for what it is told). Does not block. */
  void addListener(String namespace, String group, String name, ConfigListener listener);

  /** Removes one registration of a listener; events already being delivered complete. */
  void removeListener(String namespace, String group, String name, ConfigListener listener);

  /** The client's default namespace ({@code LodestarClient.Builder.namespace}), used by the calls below. */
  String namespace();

  /** {@link #get(String, String, String)} in the client's namespace. */
  default Config get(String group, String name) {
    return get(namespace(), group, name);
  }

  /** {@link #getContent(String, String, String, String)} in the client's namespace. */
  default String getContent(String group, String name, String defaultContent) {
    return getContent(namespace(), group, name, defaultContent);
  }

  /** {@link #addListener(String, String, String, ConfigListener)} in the client's namespace. */
  default void addListener(String group, String name, ConfigListener listener) {
    addListener(namespace(), group, name, listener);
  }

  /** {@link #removeListener(String, String, String, ConfigListener)} in the client's namespace. */
  default void removeListener(String group, String name, ConfigListener listener) {
    removeListener(namespace(), group, name, listener);
  }
}
