package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lodestar.api.v1.Instance;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ValidationTest {

  @Test
  void serversAreRequiredAndMustBeHostPort() {
    assertThatThrownBy(() -> LodestarClient.builder().build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers is required");
    assertThatThrownBy(() -> LodestarClient.builder().servers(List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers is required");
    assertThatThrownBy(() -> LodestarClient.builder().servers((List<String>) null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers");
    assertThatThrownBy(() -> LodestarClient.builder().servers("127.0.0.1:8700", "nohost"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers[1]").hasMessageContaining("nohost");
    assertThatThrownBy(() -> LodestarClient.builder().servers("h:0"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers[0]").hasMessageContaining("port");
    assertThatThrownBy(() -> LodestarClient.builder().servers("h:http"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers[0]").hasMessageContaining("port");
    assertThatThrownBy(() -> LodestarClient.builder().servers("::1:80"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers[0]");
    assertThatThrownBy(() -> LodestarClient.builder().servers(Arrays.asList("h:1", null)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers[1]");
    LodestarClient.builder().servers("[::1]:8700", "host-1.example:1"); // accepted
  }

  @Test
  void otherBuilderFieldsAreCheckedAndNamed() {
    LodestarClient.Builder b = LodestarClient.builder();
    assertThatThrownBy(() -> b.clientId("has space")).hasMessageContaining("clientId");
    assertThatThrownBy(() -> b.clientId("")).hasMessageContaining("clientId is required");
    assertThatThrownBy(() -> b.connectTimeout(Duration.ZERO)).hasMessageContaining("connectTimeout");
    assertThatThrownBy(() -> b.requestTimeout(Duration.ofSeconds(-1))).hasMessageContaining("requestTimeout");
    assertThatThrownBy(() -> b.requestTimeout(null)).hasMessageContaining("requestTimeout");
    assertThatThrownBy(() -> b.reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("reconnectBackoff.max");
    assertThatThrownBy(() -> b.cacheDir(null)).hasMessageContaining("cacheDir");
    assertThatThrownBy(() -> b.listenerExecutor(null)).hasMessageContaining("listenerExecutor");
    assertThatThrownBy(() -> b.labels(Map.of("", "x"))).hasMessageContaining("labels");
  }

  @Test
  void registrationSpecChecksEachField() {
    assertThatThrownBy(() -> RegistrationSpec.builder().host("h").port(1).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("service is required");
    assertThatThrownBy(() -> RegistrationSpec.builder().service("s").port(1).build()).hasMessage("host is required");
    assertThatThrownBy(() -> RegistrationSpec.builder().service("s").host("h").build()).hasMessage("port is required");
    assertThatThrownBy(() -> RegistrationSpec.builder().service("bad/name")).hasMessageContaining("service 'bad/name'");
    assertThatThrownBy(() -> RegistrationSpec.builder().namespace("-x")).hasMessageContaining("namespace");
    assertThatThrownBy(() -> RegistrationSpec.builder().host("a b")).hasMessageContaining("host");
    assertThatThrownBy(() -> RegistrationSpec.builder().port(70000)).hasMessageContaining("port");
    assertThatThrownBy(() -> RegistrationSpec.builder().weight(10_001)).hasMessageContaining("weight");
    assertThatThrownBy(() -> RegistrationSpec.builder().weight(-1)).hasMessageContaining("weight");
    assertThatThrownBy(() -> RegistrationSpec.builder().ttlSeconds(3601)).hasMessageContaining("ttlSeconds");
    assertThatThrownBy(() -> RegistrationSpec.builder().id("")).hasMessageContaining("id is required");
    assertThatThrownBy(() -> RegistrationSpec.builder().protocol("x".repeat(33))).hasMessageContaining("protocol");
    assertThatThrownBy(() -> RegistrationSpec.builder().putMetadata("k", "v".repeat(1025)))
        .hasMessageContaining("metadata.k");
  }

  @Test
  void registrationSpecBuildsAnEphemeralInstance() {
    Instance i = RegistrationSpec.builder().service("orders").host("10.0.0.7").port(8080).weight(5)
        .putMetadata("zone", "a").protocol("grpc").ttlSeconds(30).build().toInstance();
    assertThat(i.getNamespace()).isEqualTo("default");
    assertThat(i.getEphemeral()).isTrue();
    assertThat(i.getId()).isEmpty();
    assertThat(i.getWeight()).isEqualTo(5);
    assertThat(i.getMetadataMap()).containsEntry("zone", "a");
    assertThat(i.getTtlSeconds()).isEqualTo(30);
    assertThat(RegistrationSpec.builder().service("s").host("h").port(1).build().toInstance().hasWeight()).isFalse();
  }

  @Test
  void discoveryArgumentsAreCheckedBeforeAnyNetworkWork() {
    try (LodestarClient c = LodestarClient.builder().servers("127.0.0.1:1").build()) {
      assertThatThrownBy(() -> c.getInstances("default", "no spaces")).hasMessageContaining("service");
      assertThatThrownBy(() -> c.selectOne(null, "svc")).hasMessageContaining("namespace is required");
      assertThatThrownBy(() -> c.subscribe("default", "svc", null)).isInstanceOf(NullPointerException.class);
      assertThatThrownBy(() -> c.deregister("default", "svc", "")).hasMessageContaining("id is required");
    }
  }
}
