package io.lodestar.server.tls;

import com.linecorp.armeria.common.TlsKeyPair;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * How a TLS node talks to the other members: over TLS, presenting its own certificate (so a
 * member under mutual TLS accepts the call), and trusting the CAs of {@code --tls-client-ca} (in
 * a cluster, the CA that issued every member's certificate) and the certificates of its own
 * {@code --tls-cert} chain (so members that share one certificate, or whose chain carries the CA,
 * trust each other). Nothing else: not the JVM's public CAs, which would let any publicly signed
 * certificate pose as a member. Host names are verified: a member's certificate must name the
 * address it has in {@code --cluster}.
 *
 * <p>The same key and trust serve the members' REST calls to each other (cluster status,
 * telemetry, the secret-key check) and, under mutual TLS, their Raft traffic.
 */
public final class PeerTls {
  private final X509KeyManager keyManager;
  private final X509TrustManager trustManager;
  private final SSLContext sslContext;
  private final boolean mutual;

  private PeerTls(X509KeyManager keyManager, X509TrustManager trustManager, SSLContext sslContext, boolean mutual) {
    this.keyManager = keyManager;
    this.trustManager = trustManager;
    this.sslContext = sslContext;
    this.mutual = mutual;
  }

  static PeerTls of(java.nio.file.Path certFile, java.nio.file.Path keyFile, List<X509Certificate> clientCas) {
    TlsKeyPair pair = TlsKeyPair.of(keyFile.toFile(), certFile.toFile());
    try {
      char[] none = new char[0];
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, none);
      keys.setKeyEntry("node", pair.privateKey(), none, pair.certificateChain().toArray(X509Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, none);

      List<X509Certificate> anchors = new ArrayList<>(clientCas);
      anchors.addAll(pair.certificateChain());
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, none);
      for (int i = 0; i < anchors.size(); i++) {
        trust.setCertificateEntry("anchor-" + i, anchors.get(i));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);

      X509KeyManager km = (X509KeyManager) kmf.getKeyManagers()[0];
      X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(new javax.net.ssl.KeyManager[] {km}, new javax.net.ssl.TrustManager[] {tm}, null);
      return new PeerTls(km, tm, ctx, !clientCas.isEmpty());
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("cannot use --tls-cert/--tls-key for calls to other members: " + e.getMessage(), e);
    }
  }

  /** For the members' REST calls to each other (java.net.http). */
  public SSLContext sslContext() {
    return sslContext;
  }

  /** This node's key and certificate, presented to members. */
  public X509KeyManager keyManager() {
    return keyManager;
  }

  /** The member certificates this node trusts. */
  public X509TrustManager trustManager() {
    return trustManager;
  }

  /**
   * Whether the node runs mutual TLS ({@code --tls-client-ca}): then its Raft traffic is mutual
   * TLS too, so that only holders of a certificate from that CA take part in it.
   */
  public boolean mutual() {
    return mutual;
  }
}
