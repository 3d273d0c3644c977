package io.lodestar.server.tls;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.server.ServerBuilder;
import io.netty.handler.ssl.ClientAuth;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's TLS, resolved from its {@link TlsSettings}: the certificate and key it serves (for
 * {@code --tls-self-signed}, made once and kept in {@code <data-dir>/tls/} so that clients keep
 * trusting it across restarts), and the CAs whose client certificates it accepts.
 *
 * <p>The console writes through the node's own REST API over loopback; under mutual TLS that
 * call presents the node's own certificate, which the node therefore also accepts as a client
 * certificate (only that exact certificate, next to the client CAs).
 */
public final class ServerTls {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
  static final String SELF_SIGNED = "self-signed";

  private final Path certFile;
  private final Path keyFile;
  private final List<X509Certificate> clientCas;
  private PeerTls peers;

  private ServerTls(Path certFile, Path keyFile, List<X509Certificate> clientCas) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.clientCas = clientCas;
  }

  /** Null when TLS is off. Makes the self-signed certificate on first use. */
  public static ServerTls resolve(TlsSettings s, Path dataDir, String bind) {
    if (!s.enabled()) {
      return null;
    }
    Path cert = s.certFile();
    Path key = s.keyFile();
    if (s.selfSigned()) {
      Path dir = dataDir.resolve("tls");
      cert = dir.resolve(SELF_SIGNED + ".crt");
      key = dir.resolve(SELF_SIGNED + ".key");
      if (!Files.isReadable(cert) || !Files.isReadable(key)) {
        Set<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        if (!bind.equals("0.0.0.0") && !bind.equals("::")) {
          names.add(bind);
        }
        SelfSignedCerts.selfSigned(dir, SELF_SIGNED, new ArrayList<>(names));
        log.info("Created a self-signed TLS certificate {} for {} (development only; clients trust it with "
            + "--tls-ca {})", cert.toAbsolutePath(), names, cert.toAbsolutePath());
      }
    }
    List<X509Certificate> cas = s.clientCaFile() == null ? List.of() : readCertificates(s.clientCaFile());
    if (s.clientCaFile() != null && cas.isEmpty()) {
      throw new IllegalArgumentException("--tls-client-ca " + s.clientCaFile() + " holds no PEM certificate");
    }
    return new ServerTls(cert, key, cas);
  }

  /** The certificate served, for clients that pin it (development). */
  public Path certFile() {
    return certFile;
  }

  public boolean mutual() {
    return !clientCas.isEmpty();
  }

  /** Listens on {@code address} with TLS only, serving the certificate and, under mTLS, requiring a client's. */
  public void apply(ServerBuilder sb, InetSocketAddress address) {
    sb.port(address, SessionProtocol.HTTPS);
    sb.tls(certFile.toFile(), keyFile.toFile());
    if (mutual()) {
      List<X509Certificate> trusted = new ArrayList<>(clientCas);
      trusted.addAll(readCertificates(certFile).subList(0, 1));  // the node itself, for the console's loopback
      sb.tlsCustomizer(b -> b.trustManager(trusted).clientAuth(ClientAuth.REQUIRE));
    }
  }

  /**
   * The client factory for calls to this node's own port over loopback. It skips verifying the
   * server (the port is this process's own while it is bound, and an operator's certificate
   * rarely names 127.0.0.1), and presents the node's certificate under mutual TLS.
   */
  public ClientFactory loopbackClientFactory() {
    var b = ClientFactory.builder().tlsNoVerify();
    if (mutual()) {
      b.tlsCustomizer(ssl -> ssl.keyManager(certFile.toFile(), keyFile.toFile()));
    }
    return b.build();
  }

  /** How this node calls the other members of its cluster (docs/security.md#cluster-internal-calls). */
  public synchronized PeerTls peers() {
    if (peers == null) {
      peers = PeerTls.of(certFile, keyFile, clientCas);
    }
    return peers;
  }

  static List<X509Certificate> readCertificates(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      CertificateFactory f = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (var c : f.generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + pem, e);
    } catch (CertificateException e) {
      throw new IllegalArgumentException(pem + " is not a PEM certificate file: " + e.getMessage());
    }
  }
}
