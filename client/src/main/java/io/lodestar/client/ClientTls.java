package io.lodestar.client;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS towards the servers: which certificates to trust and, for mutual TLS, which certificate to
 * present. Immutable; pass it to {@link LodestarClient.Builder#tls}. Without it the client speaks
 * plaintext, which a server started with TLS refuses.
 *
 * <pre>{@code
 * ClientTls tls = ClientTls.trusting(Path.of("ca.crt"))                        // server's CA (PEM)
 *     .withClientCertificate(Path.of("client.crt"), Path.of("client.key"));    // mutual TLS only
 * }</pre>
 */
public final class ClientTls {
  private final Path caFile;
  private final Path certFile;
  private final Path keyFile;

  private ClientTls(Path caFile, Path certFile, Path keyFile) {
    this.caFile = caFile;
    this.certFile = certFile;
    this.keyFile = keyFile;
  }

  /** Trusts the CA certificates in {@code caFile} (PEM), and nothing else. */
  public static ClientTls trusting(Path caFile) {
    readable("caFile", caFile);
    return new ClientTls(caFile, null, null);
  }

  /** Trusts the JVM's default trust store (for certificates from a public CA). */
  public static ClientTls systemTrust() {
    return new ClientTls(null, null, null);
  }

  /** Also presents this certificate chain and PKCS#8 key (PEM) to servers that require one. */
  public ClientTls withClientCertificate(Path certFile, Path keyFile) {
    readable("certFile", certFile);
    readable("keyFile", keyFile);
    return new ClientTls(caFile, certFile, keyFile);
  }

  /** The CA file trusted, or null for the JVM's trust store. */
  public Path caFile() {
    return caFile;
  }

  public Path certFile() {
    return certFile;
  }

  public Path keyFile() {
    return keyFile;
  }

  /** gRPC channel credentials for these settings. */
  ChannelCredentials credentials() {
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    try {
      if (caFile != null) {
        b.trustManager(caFile.toFile());
      }
      if (certFile != null) {
        b.keyManager(certFile.toFile(), keyFile.toFile());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS files " + this, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid TLS files " + this + ": " + e.getMessage(), e);
    }
    return b.build();
  }

  /**
   * The same trust (and client certificate) as a JDK {@link javax.net.ssl.SSLContext}, for REST
   * calls next to the SDK's stream (the Spring starter's service catalog).
   */
  public javax.net.ssl.SSLContext sslContext() {
    try {
      javax.net.ssl.TrustManagerFactory tmf =
          javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      java.security.cert.CertificateFactory x509 = java.security.cert.CertificateFactory.getInstance("X.509");
      if (caFile == null) {
        tmf.init((java.security.KeyStore) null);
      } else {
        java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        trust.load(null, null);
        try (var in = Files.newInputStream(caFile)) {
          int i = 0;
          for (var c : x509.generateCertificates(in)) {
            trust.setCertificateEntry("ca" + i++, c);
          }
        }
        tmf.init(trust);
      }
      javax.net.ssl.KeyManager[] keys = null;
      if (certFile != null) {
        java.security.KeyStore ks = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        ks.load(null, null);
        java.util.Collection<? extends java.security.cert.Certificate> chain;
        try (var in = Files.newInputStream(certFile)) {
          chain = x509.generateCertificates(in);
        }
        ks.setKeyEntry("client", pkcs8(keyFile), new char[0], chain.toArray(java.security.cert.Certificate[]::new));
        javax.net.ssl.KeyManagerFactory kmf =
            javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        keys = kmf.getKeyManagers();
      }
      javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
      ctx.init(keys, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS files " + this, e);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("invalid TLS files " + this + ": " + e.getMessage(), e);
    }
  }

  /** A PKCS#8 PEM private key ({@code BEGIN PRIVATE KEY}), RSA or EC. */
  private static java.security.PrivateKey pkcs8(Path file) throws IOException, java.security.GeneralSecurityException {
    String pem = Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII);
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new java.security.spec.InvalidKeySpecException(file + " is not a PKCS#8 PEM key (BEGIN PRIVATE KEY)");
    }
    byte[] der = java.util.Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
    try {
      return java.security.KeyFactory.getInstance("RSA").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
    } catch (java.security.spec.InvalidKeySpecException notRsa) {
      return java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
    }
  }

  private static void readable(String field, Path file) {
    Objects.requireNonNull(file, field);
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(field + " " + file + " is not a readable file");
    }
  }

  @Override
  public String toString() {
    return "ClientTls{ca=" + (caFile == null ? "system" : caFile) + (certFile == null ? "" : ", cert=" + certFile) + "}";
  }
}
