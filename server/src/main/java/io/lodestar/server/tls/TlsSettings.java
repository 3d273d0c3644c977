package io.lodestar.server.tls;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a node serves TLS on its client port (and on {@code --consul-port}): off, a certificate and
 * key in PEM files, or a self-signed certificate for development. {@code clientCa} turns on mutual
 * TLS: a client must present a certificate issued by one of the CA certificates in that PEM file.
 *
 * <p>With TLS on, the port speaks TLS only: a plaintext request is not answered. Serving both on
 * one port would let a client (or a misconfigured SDK) silently fall back to cleartext.
 */
public record TlsSettings(Path certFile, Path keyFile, Path clientCaFile, boolean selfSigned) {
  public static final TlsSettings NONE = new TlsSettings(null, null, null, false);

  /** A certificate chain and its private key, both PEM (PKCS#8 key). */
  public static TlsSettings of(Path certFile, Path keyFile) {
    return new TlsSettings(certFile, keyFile, null, false);
  }

  /** A self-signed certificate kept in {@code <data-dir>/tls/}, for development. */
  public static TlsSettings selfSignedCert() {
    return new TlsSettings(null, null, null, true);
  }

  /** The same, with mutual TLS: clients need a certificate issued by a CA in {@code caFile}. */
  public TlsSettings withClientCa(Path caFile) {
    return new TlsSettings(certFile, keyFile, caFile, selfSigned);
  }

  public TlsSettings {
    if (selfSigned && (certFile != null || keyFile != null)) {
      throw new IllegalArgumentException("--tls-self-signed and --tls-cert/--tls-key exclude each other");
    }
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException(certFile == null ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
    }
    if (clientCaFile != null && certFile == null && !selfSigned) {
      throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key (or --tls-self-signed)");
    }
    readable("--tls-cert", certFile);
    readable("--tls-key", keyFile);
    readable("--tls-client-ca", clientCaFile);
  }

  public boolean enabled() {
    return selfSigned || certFile != null;
  }

  public boolean mutual() {
    return clientCaFile != null;
  }

  private static void readable(String option, Path file) {
    if (file != null && !Files.isReadable(file)) {
      throw new IllegalArgumentException(option + " " + file + ": no such readable file");
    }
  }
}
