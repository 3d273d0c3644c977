package io.lodestar.grpc;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.governance.Governor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One SDK client and one {@link Governor} per server list, shared by every channel of the process
 * that resolves {@code lodestar:} targets against those servers: one stream per process, as the SDK
 * intends, however many channels there are. Reference-counted; the last resolver to let go closes
 * them. Name resolvers are created by grpc through {@link java.util.ServiceLoader}, with no way to
 * hand them an object, which is why this registry is static.
 */
final class SharedClients {
  private static final Map<String, Shared> BY_SERVERS = new HashMap<>();

  private SharedClients() {}

  /** The client and governor of a server list, as one counted reference. */
  static final class Shared {
    final String servers;
    final LodestarClient client;
    final Governor governor;
    private int refs;

    private Shared(String servers) {
      this.servers = servers;
      List<String> list = Arrays.stream(servers.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      // grpc makes resolvers through ServiceLoader, so the token comes from the process's settings
      LodestarClient.Builder b = LodestarClient.builder().servers(list).token(token());
      io.lodestar.client.ClientTls tls = tls();
      if (tls != null) {
        b.tls(tls);
      }
      this.client = b.build();
      this.governor = Governor.builder(client).callerService(callerService()).build();
    }
  }

  /**
   * This process's service name, the caller of its edges in the call statistics: the
   * {@code lodestar.service} system property, else the {@code LODESTAR_SERVICE} environment
   * variable, else empty (grpc creates resolvers with no way to hand them a name).
   */
  static String callerService() {
    String prop = System.getProperty("lodestar.service");
    if (prop != null && !prop.isBlank()) {
      return prop.trim();
    }
    String env = System.getenv("LODESTAR_SERVICE");
    return env == null ? "" : env.trim();
  }

  /**
   * TLS towards servers started with --tls-cert or --tls-self-signed, from the process's settings
   * (grpc gives resolvers no other way): the CA file in the system property {@code lodestar.tls.ca-file},
   * else {@code LODESTAR_TLS_CA} (as the CLI); for mutual TLS also {@code lodestar.tls.cert-file} and
   * {@code lodestar.tls.key-file} (or {@code LODESTAR_TLS_CERT}, {@code LODESTAR_TLS_KEY}). Null: plaintext.
   */
  static io.lodestar.client.ClientTls tls() {
    String ca = setting("lodestar.tls.ca-file", "LODESTAR_TLS_CA");
    if (ca == null) {
      return null;
    }
    io.lodestar.client.ClientTls t = io.lodestar.client.ClientTls.trusting(java.nio.file.Path.of(ca));
    String cert = setting("lodestar.tls.cert-file", "LODESTAR_TLS_CERT");
    String key = setting("lodestar.tls.key-file", "LODESTAR_TLS_KEY");
    return cert == null || key == null ? t : t.withClientCertificate(java.nio.file.Path.of(cert), java.nio.file.Path.of(key));
  }

  private static String setting(String property, String env) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? null : v.trim();
  }

  /**
   * The API token for servers started with --auth: the system property {@code lodestar.token},
   * else the environment variable {@code LODESTAR_TOKEN} (as the CLI); null for none.
   */
  static String token() {
    String t = System.getProperty("lodestar.token");
    return t != null && !t.isBlank() ? t : System.getenv("LODESTAR_TOKEN");
  }

  static synchronized Shared acquire(String servers) {
    Shared s = BY_SERVERS.computeIfAbsent(servers, Shared::new);
    s.refs++;
    return s;
  }

  static void release(Shared s) {
    boolean last;
    synchronized (SharedClients.class) {
      last = --s.refs == 0 && BY_SERVERS.remove(s.servers, s);
    }
    if (last) {
      s.governor.close();
      s.client.close();
    }
  }
}
