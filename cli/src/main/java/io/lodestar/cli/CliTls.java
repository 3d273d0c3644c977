package io.lodestar.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The CLI's TLS: the CA file to trust ({@code --tls-ca}, else {@code $LODESTAR_TLS_CA}, else the
 * JVM's trust store) and, for mutual TLS, the certificate and PKCS#8 key to present
 * ({@code --tls-cert}/{@code --tls-key}), all PEM, as the server takes them.
 */
final class CliTls {
  private CliTls() {}

  /** An SSL context for these files; a file that cannot be used is a usage error naming it. */
  static SSLContext context(Path caFile, Path certFile, Path keyFile) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (caFile == null) {
        tmf.init((KeyStore) null);
      } else {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        for (Certificate c : certificates("--tls-ca", caFile)) {
          trust.setCertificateEntry("ca" + i++, c);
        }
        tmf.init(trust);
      }
      KeyManagerFactory kmf = null;
      if (certFile != null) {
        Collection<? extends Certificate> chain = certificates("--tls-cert", certFile);
        KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
        keys.load(null, null);
        keys.setKeyEntry("client", privateKey(keyFile), new char[0], chain.toArray(Certificate[]::new));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new CliException(CliException.USAGE, "cannot set up TLS: " + e.getMessage());
    }
  }

  private static Collection<? extends Certificate> certificates(String option, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new CliException(CliException.USAGE, option + " " + file + " holds no PEM certificate");
      }
      return certs;
    } catch (IOException e) {
      throw new CliException(CliException.USAGE, option + " " + file + ": cannot read it (" + e.getMessage() + ")");
    } catch (GeneralSecurityException e) {
      throw new CliException(CliException.USAGE, option + " " + file + " is not a PEM certificate file");
    }
  }

  private static PrivateKey privateKey(Path file) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new CliException(CliException.USAGE, "--tls-key " + file + ": cannot read it (" + e.getMessage() + ")");
    }
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new CliException(CliException.USAGE, "--tls-key " + file
          + " is not a PKCS#8 PEM key (BEGIN PRIVATE KEY); convert with openssl pkcs8 -topk8 -nocrypt");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException tryNext) {
        // not this algorithm
      }
    }
    throw new CliException(CliException.USAGE, "--tls-key " + file + ": not an RSA, EC or Ed25519 key");
  }
}
