package io.lodestar.spring;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code lodestar.*}: where the servers are and what this application is. Bound twice: by the
 * config-data resolver at bootstrap (for {@code spring.config.import=lodestar:…}, before any bean
 * exists) and as a bean for everything else; both read the same keys.
 */
@ConfigurationProperties(prefix = LodestarProperties.PREFIX)
public class LodestarProperties {
  public static final String PREFIX = "lodestar";

  /** Comma-separated host:port of Lodestar servers (any members of a cluster). */
  private String server = "127.0.0.1:8700";
  /** Namespace the application registers in, discovers and reads configs from. */
  private String namespace = "default";
  /** How long the SDK waits for a server to accept its stream before trying the next one. */
  private Duration connectTimeout = Duration.ofSeconds(3);
  /** How long a first lookup (a service's list, a config) waits for the server or the failover cache. */
  private Duration requestTimeout = Duration.ofSeconds(5);
  /**
   * The API token for a server started with --auth (docs/security.md); sent on the SDK's stream,
   * so with every registration, heartbeat and config read. Empty: none.
   */
  private String token;
  private final Discovery discovery = new Discovery();
  private final Config config = new Config();

  public String getToken() {
    return token;
  }

  public void setToken(String token) {
    this.token = token;
  }

  public String getServer() {
    return server;
  }

  public void setServer(String server) {
    this.server = server;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public Duration getConnectTimeout() {
    return connectTimeout;
  }

  public void setConnectTimeout(Duration connectTimeout) {
    this.connectTimeout = connectTimeout;
  }

  public Duration getRequestTimeout() {
    return requestTimeout;
  }

  public void setRequestTimeout(Duration requestTimeout) {
    this.requestTimeout = requestTimeout;
  }

  public Discovery getDiscovery() {
    return discovery;
  }

  public Config getConfig() {
    return config;
  }

  /** The server list as the SDK takes it. */
  public List<String> serverList() {
    List<String> list = Arrays.stream(server.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    if (list.isEmpty()) {
      throw new IllegalArgumentException("lodestar.server: no host:port given");
    }
    return list;
  }

  public static class Discovery {
    /** Register this application and serve discovery and load balancing from Lodestar. */
    private boolean enabled = true;
    /** Address to register; default: server.address when set, else Spring Cloud's InetUtils choice. */
    private String host;
    /** Weight of this instance, 0-10000 (0: no traffic); default 100. */
    private Integer weight;
    /** Instance metadata, also this application's labels: route rules match them as the caller's, gray config releases target them. zone and region drive nearby routing. */
    private Map<String, String> metadata = new LinkedHashMap<>();
    /** After deregistering at shutdown, how long to keep serving while callers receive the change. */
    private Duration deregisterDelay = Duration.ofMillis(500);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getHost() {
      return host;
    }

    public void setHost(String host) {
      this.host = host;
    }

    public Integer getWeight() {
      return weight;
    }

    public void setWeight(Integer weight) {
      this.weight = weight;
    }

    public Map<String, String> getMetadata() {
      return metadata;
    }

    public void setMetadata(Map<String, String> metadata) {
      this.metadata = metadata;
    }

    public Duration getDeregisterDelay() {
      return deregisterDelay;
    }

    public void setDeregisterDelay(Duration deregisterDelay) {
      this.deregisterDelay = deregisterDelay;
    }
  }

  public static class Config {
    /** Load spring.config.import=lodestar:… imports and refresh on change; false skips them, optional or not. */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  private final Tls tls = new Tls();

  public Tls getTls() {
    return tls;
  }

  /** The SDK's TLS from {@code lodestar.tls.*}, or null when {@code ca-file} is not set (plaintext). */
  public io.lodestar.client.ClientTls clientTls() {
    if (tls.getCaFile() == null) {
      return null;
    }
    io.lodestar.client.ClientTls t = io.lodestar.client.ClientTls.trusting(java.nio.file.Path.of(tls.getCaFile()));
    return tls.getCertFile() == null ? t
        : t.withClientCertificate(java.nio.file.Path.of(tls.getCertFile()), java.nio.file.Path.of(tls.getKeyFile()));
  }

  /** {@code lodestar.tls.*}: the PEM CA file the servers' certificates chain to, and for mutual TLS a client certificate. */
  public static class Tls {
    private String caFile;
    private String certFile;
    private String keyFile;

    public String getCaFile() {
      return caFile;
    }

    public void setCaFile(String caFile) {
      this.caFile = caFile;
    }

    public String getCertFile() {
      return certFile;
    }

    public void setCertFile(String certFile) {
      this.certFile = certFile;
    }

    public String getKeyFile() {
      return keyFile;
    }

    public void setKeyFile(String keyFile) {
      this.keyFile = keyFile;
    }
  }
}
