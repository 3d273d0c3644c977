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
  public ChannelCredentials credentials() {
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
