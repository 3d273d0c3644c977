package io.lodestar.client;

import java.util.Locale;

/**
 * Turns a failed connect into one line that says what to fix, when the cause is TLS: an untrusted
 * server certificate, a client certificate the server wants or refuses, or a plaintext client
 * talking to a TLS-only server (which only shows as a closed connection).
 */
final class TlsFailures {
  private TlsFailures() {}

  /** A sentence for a TLS failure, else null. */
  static String explain(Throwable failure, ClientTls tls) {
    // the whole chain first: the engine's own exception ("General OpenSslEngine problem") wraps the real cause
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String m = lower(t);
      if (t instanceof java.security.cert.CertPathValidatorException
          || t instanceof java.security.cert.CertPathBuilderException
          || m.contains("pkix path") || m.contains("unable to find valid certification path")) {
        return "TLS: the server's certificate is not trusted ("
            + (tls == null || tls.caFile() == null ? "the JVM's trust store" : "CA file " + tls.caFile())
            + " does not issue it); trust its CA with ClientTls.trusting(caFile)";
      }
      if (m.contains("no subject alternative") || m.contains("no name matching")) {
        return "TLS: the server's certificate does not name the address connected to (" + t.getMessage() + ")";
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String m = lower(t);
      if (m.contains("certificate_required") || m.contains("bad_certificate") || m.contains("unknown_ca")
          || m.contains("certificate_unknown") || m.contains("certificate required")) {
        return "TLS: the server wants a client certificate it trusts (mutual TLS): give one issued by the "
            + "server's client CA with ClientTls.withClientCertificate(cert, key)";
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException) {
        Throwable root = t;
        while (root.getCause() != null) {
          root = root.getCause();
        }
        return "TLS: " + t.getMessage() + (root == t || root.getMessage() == null ? "" : " (" + root.getMessage() + ")");
      }
    }
    if (tls == null && failure instanceof io.grpc.StatusRuntimeException sre
        && sre.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE) {
      String d = Connection.describeStatus(failure);
      String lower = d.toLowerCase(Locale.ROOT);
      if (lower.contains("network closed") || lower.contains("connection closed") || lower.contains("reset")) {
        return d + " (if the server serves TLS, configure LodestarClient.Builder.tls)";
      }
    }
    return null;
  }

  private static String lower(Throwable t) {
    return t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
  }
}
