package io.lodestar.server.http;

import io.lodestar.server.auth.ClusterCredential;
import io.lodestar.server.tls.PeerTls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;

/**
 * The one way a node calls another member's client port (cluster status, the telemetry merge, the
 * secret-key check at start): https with the node's {@link PeerTls} when it serves TLS (members
 * serve TLS alike), and the {@link ClusterCredential} on every call when it has a cluster secret,
 * so that the member answers its internal endpoints. One HTTP client per node, shared, built on the
 * first call: a single node never makes one, and the JDK's client (its SSL context, its selector
 * thread) costs a start some 240 classes and a thread.
 */
public final class PeerHttp {
  private final PeerTls tls;
  private volatile HttpClient client;
  private final String scheme;
  private final ClusterCredential credential;

  /**
   * @param tls null when the node serves plaintext
   * @param credential null when the node has no cluster secret
   */
  public PeerHttp(PeerTls tls, ClusterCredential credential) {
    this.tls = tls;
    this.scheme = tls == null ? "http" : "https";
    this.credential = credential;
  }

  /** A GET of {@code pathAndQuery} on member {@code address} (host:port), carrying the credential. */
  public HttpRequest.Builder get(String address, String pathAndQuery, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(scheme + "://" + address + pathAndQuery))
        .timeout(timeout).GET();
    if (credential != null) {
      b.header(ClusterCredential.HEADER, credential.headerValue());
    }
    return b;
  }

  /** Whether calls carry the cluster credential (else a caller's own token must authorize them). */
  public boolean member() {
    return credential != null;
  }

  public HttpClient client() {
    HttpClient c = client;
    if (c == null) {
      synchronized (this) {
        c = client;
        if (c == null) {
          HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
              .version(HttpClient.Version.HTTP_1_1);
          if (tls != null) {
            b.sslContext(tls.sslContext());
          }
          client = c = b.build();
        }
      }
    }
    return c;
  }
}
