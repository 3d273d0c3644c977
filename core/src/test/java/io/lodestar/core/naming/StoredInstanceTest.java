package io.lodestar.core.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import org.junit.jupiter.api.Test;

class StoredInstanceTest {
  private static final ServiceKey KEY = new ServiceKey("default", "svc");

  private static Instance withHost(String host) {
    return Instance.newBuilder().setNamespace("default").setService("svc").setId("i-1").setHost(host).setPort(80)
        .putMetadata("zone", "a").build();
  }

  @Test
  void everyHostRendersBackAsRegistered() {
    for (String host : new String[] {"10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.100.7", "1.2.3.4",
        "010.0.0.1", "10.0.0.01", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.", ".1.2.3",
        "1.2.3.4 ", "+1.2.3.4", "1.2.3.1000", "::1", "fe80::1", "[::1]", "host.example", "localhost", ""}) {
      Instance i = withHost(host);
      StoredInstance s = StoredInstance.of(KEY, i);
      assertThat(s.host()).as(host).isEqualTo(host);
      assertThat(s.toInstance()).as(host).isEqualTo(i);
    }
  }

  @Test
  void onlyCanonicalDottedIpv4IsPacked() {
    assertThat(StoredInstance.packV4("10.1.2.3")).isEqualTo(0x0a010203L);
    assertThat(StoredInstance.packV4("255.255.255.255")).isEqualTo(0xffffffffL);
    assertThat(StoredInstance.packV4("0.0.0.0")).isZero();
    for (String notPacked : new String[] {"01.1.2.3", "1.2.3", "1.2.3.4.5", "256.0.0.0", "1.2.3.a", "1.2.3.-4",
        "1.2..3", "host.example", "::ffff:1.2.3.4"}) {
      assertThat(StoredInstance.packV4(notPacked)).as(notPacked).isEqualTo(-1);
    }
  }

  @Test
  void everyFieldRendersBack() {
    Instance full = Instance.newBuilder().setNamespace("default").setService("svc").setId("i-2").setHost("10.0.0.2")
        .setPort(8080).setProtocol("grpc").setEphemeral(true).setHealth(io.lodestar.api.v1.HealthStatus.UNHEALTHY)
        .setRevision(7).setTtlSeconds(9).setRegisteredAtMs(123).setOwner("c-1").setLeaseHolder("n1").setIsolated(true)
        .addTags("a").addTags("b").setCheckId("service:x").setRemoveAfterSeconds(30).setWeight(5)
        .setRegisteredWeight(9).putMetadata("k", "v").build();
    assertThat(StoredInstance.of(KEY, full).toInstance()).isEqualTo(full);
    Instance checked = Instance.newBuilder().setNamespace("default").setService("svc").setId("i-3").setHost("h")
        .setPort(1).setCheck(io.lodestar.api.v1.HealthCheck.newBuilder().setIntervalSeconds(5)
            .setTcp(io.lodestar.api.v1.TcpCheck.getDefaultInstance())).build();
    assertThat(StoredInstance.of(KEY, checked).toInstance()).isEqualTo(checked);
  }
}
