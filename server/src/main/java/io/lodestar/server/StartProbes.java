package io.lodestar.server;

import io.lodestar.server.tls.TlsSettings;
import java.util.Properties;

/**
 * Probes Netty and Armeria run at start that a node without TLS never uses, turned off before either
 * library is loaded (docs/benchmarks.md, "Performance levers"): Armeria's flags ask Netty whether
 * OpenSSL is available, which extracts and loads netty-tcnative's native library (~0.45 s of CPU at
 * every start, 1.9 MB of RSS), and Netty registers its buffer allocator's JFR events (classes and
 * generated event handlers) though nothing records them. A node with TLS keeps Armeria's default
 * (OpenSSL when available). A setting given with {@code -D} always wins. Only for a node run as
 * {@code lodestar server}: an application that embeds nodes may serve TLS from a later one.
 */
final class StartProbes {
  static final String USE_OPENSSL = "com.linecorp.armeria.useOpenSsl";
  static final String NETTY_JFR = "io.netty.jfr.enabled";

  private StartProbes() {}

  /** Before the first Armeria or Netty class is loaded: both libraries read these once. */
  static void skipUnused(TlsSettings tls, Properties system) {
    if (!tls.enabled()) {
      system.putIfAbsent(USE_OPENSSL, "false");
    }
    system.putIfAbsent(NETTY_JFR, "false");
  }
}
