package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.server.tls.TlsSettings;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** What `lodestar server` tells Armeria and Netty before they load (the node's TLS is in ClusterSecurityTest). */
class StartProbesTest {
  @Test
  void aNodeWithoutTlsSkipsTheOpenSslAndJfrProbes() {
    Properties p = new Properties();
    StartProbes.skipUnused(TlsSettings.NONE, p);
    assertThat(p).containsEntry(StartProbes.USE_OPENSSL, "false").containsEntry(StartProbes.NETTY_JFR, "false");
  }

  @Test
  void aNodeWithTlsKeepsArmeriasSslProvider() {
    Properties p = new Properties();
    StartProbes.skipUnused(TlsSettings.selfSignedCert(), p);
    assertThat(p).doesNotContainKey(StartProbes.USE_OPENSSL).containsEntry(StartProbes.NETTY_JFR, "false");
  }

  @Test
  void aSettingGivenWithDashDWins() {
    Properties p = new Properties();
    p.setProperty(StartProbes.USE_OPENSSL, "true");
    p.setProperty(StartProbes.NETTY_JFR, "true");
    StartProbes.skipUnused(TlsSettings.NONE, p);
    assertThat(p).containsEntry(StartProbes.USE_OPENSSL, "true").containsEntry(StartProbes.NETTY_JFR, "true");
  }
}
