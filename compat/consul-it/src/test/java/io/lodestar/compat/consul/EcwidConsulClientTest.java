package io.lodestar.compat.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.agent.model.NewService;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.HealthService;
import com.ecwid.consul.v1.kv.model.GetValue;
import com.ecwid.consul.v1.kv.model.PutParams;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.server.LodestarServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ecwid consul-api client (the transport under Spring Cloud Consul), unchanged, against Lodestar. */
class EcwidConsulClientTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static ConsulClient consul;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    consul = new ConsulClient("127.0.0.1", server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static NewService ttlService(String name, String id, int port) {
    NewService s = new NewService();
    s.setName(name);
    s.setId(id);
    s.setAddress("127.0.0.1");
    s.setPort(port);
    s.setTags(List.of("v1", "zone-" + id));
    s.setMeta(java.util.Map.of("version", "1.0"));
    NewService.Check check = new NewService.Check();
    check.setTtl("30s");
    s.setCheck(check);
    return s;
  }

  static List<HealthService> health(String name, boolean passing) {
    return consul.getHealthServices(name, HealthServicesRequest.newBuilder().setPassing(passing)
        .setQueryParams(QueryParams.DEFAULT).build()).getValue();
  }

  @Test
  void ttlChecksPassingFilterBlockingQueryAndDeregistration() {
    consul.agentServiceRegister(ttlService("web", "web-1", 9001));
    consul.agentServiceRegister(ttlService("web", "web-2", 9002));
    // a TTL check starts critical: nothing passes until a client says so
    assertThat(health("web", true)).isEmpty();
    consul.agentCheckPass("service:web-1");

    assertThat(health("web", true)).extracting(h -> h.getService().getId()).containsExactly("web-1");
    List<HealthService> all = health("web", false);
    assertThat(all).extracting(h -> h.getService().getId()).containsExactly("web-1", "web-2");
    assertThat(all.get(0).getService().getTags()).containsExactly("v1", "zone-web-1");
    assertThat(all.get(0).getService().getMeta()).containsEntry("version", "1.0");
    assertThat(all.get(0).getChecks()).extracting(c -> c.getCheckId()).containsExactly("service:web-1");
    assertThat(all.get(1).getChecks().get(0).getStatus().name()).isEqualTo("CRITICAL");

    // a blocking query at the current index stays pending, including across unrelated writes
    Response<List<HealthService>> now = consul.getHealthServices("web", HealthServicesRequest.newBuilder()
        .setQueryParams(QueryParams.DEFAULT).build());
    long index = now.getConsulIndex();
    assertThat(index).isGreaterThanOrEqualTo(1);
    CompletableFuture<Response<List<HealthService>>> blocked = CompletableFuture.supplyAsync(() ->
        consul.getHealthServices("web", HealthServicesRequest.newBuilder()
            .setQueryParams(new QueryParams(30, index)).build()));
    consul.agentServiceRegister(ttlService("other", "other-1", 9100));
    consul.setKVValue("unrelated", "x");
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> !blocked.isDone());

    consul.agentServiceRegister(ttlService("web", "web-3", 9003));
    await().atMost(Duration.ofSeconds(30)).until(blocked::isDone);
    Response<List<HealthService>> woke = blocked.join();
    assertThat(woke.getConsulIndex()).isGreaterThan(index);
    assertThat(woke.getValue()).extracting(h -> h.getService().getId()).contains("web-3");

    // the same instances through the catalog
    assertThat(consul.getCatalogServices(QueryParams.DEFAULT).getValue()).containsKeys("web", "other");
    assertThat(consul.getCatalogServices(QueryParams.DEFAULT).getValue().get("web"))
        .contains("v1", "zone-web-1", "zone-web-3");

    consul.agentServiceDeregister("web-2");
    consul.agentServiceDeregister("web-3");
    assertThat(health("web", false)).extracting(h -> h.getService().getId()).containsExactly("web-1");
    assertThat(server.stateMachine().registry().view("default", "web").instances())
        .extracting(i -> i.getId()).containsExactly("web-1");
  }

  @Test
  void keyValueWithCasRecurseAndDelete() {
    assertThat(consul.setKVValue("app/config/a", "one").getValue()).isTrue();
    Response<GetValue> a = consul.getKVValue("app/config/a");
    assertThat(a.getValue().getDecodedValue()).isEqualTo("one");
    long modify = a.getValue().getModifyIndex();
    assertThat(a.getConsulIndex()).isEqualTo(modify);

    PutParams current = new PutParams();
    current.setCas(modify);
    assertThat(consul.setKVValue("app/config/a", "two", current).getValue()).isTrue();
    // the same index is now stale: refused, nothing written
    assertThat(consul.setKVValue("app/config/a", "three", current).getValue()).isFalse();
    assertThat(consul.getKVValue("app/config/a").getValue().getDecodedValue()).isEqualTo("two");
    PutParams create = new PutParams();
    create.setCas(0L);
    assertThat(consul.setKVValue("app/config/a", "again", create).getValue()).isFalse();
    PutParams flags = new PutParams();
    flags.setFlags(42);
    assertThat(consul.setKVValue("app/config/b", "bee", flags).getValue()).isTrue();

    List<GetValue> all = consul.getKVValues("app/").getValue();
    assertThat(all).extracting(GetValue::getKey).containsExactly("app/config/a", "app/config/b");
    assertThat(all.get(1).getFlags()).isEqualTo(42);
    assertThat(all.get(1).getDecodedValue()).isEqualTo("bee");

    consul.deleteKVValue("app/config/a");
    Response<GetValue> gone = consul.getKVValue("app/config/a");
    assertThat(gone.getValue()).isNull();
    assertThat(gone.getConsulIndex()).isGreaterThan(modify);
    consul.deleteKVValues("app/");
    assertThat(consul.getKVValues("app/").getValue()).isNull();
  }

  @Test
  void theSdkAndConsulClientsSeeEachOther(@TempDir Path cache) {
    // generous timeouts: the first gRPC connection of a cold JVM on a busy CI machine is slow
    try (LodestarClient sdk = LodestarClient.builder().servers("127.0.0.1:" + server.port()).cacheDir(cache)
        .connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(30)).build()) {
      // registered through Consul, seen through the SDK (tags and all)
      consul.agentServiceRegister(ttlService("both", "both-consul", 9201));
      consul.agentCheckPass("service:both-consul");
      await().atMost(Duration.ofSeconds(60)).until(() -> sdk.getInstances("default", "both").size() == 1);
      Instance seen = sdk.getInstances("default", "both").get(0);
      assertThat(seen.tags()).containsExactly("v1", "zone-both-consul");
      assertThat(seen.metadata()).containsEntry("version", "1.0");
      assertThat(sdk.getHealthyInstances("default", "both")).hasSize(1);

      // registered through the SDK (its stream heartbeats it), seen through Consul as passing
      sdk.register(RegistrationSpec.builder().service("both").id("both-sdk").host("127.0.0.1").port(9202).build());
      assertThat(health("both", true)).extracting(h -> h.getService().getId())
          .containsExactlyInAnyOrder("both-consul", "both-sdk");
    }
  }

  @Test
  void statusAndSelf() {
    assertThat(consul.getStatusLeader().getValue()).isEqualTo("127.0.0.1:" + server.port());
    var self = consul.getAgentSelf().getValue();
    assertThat(self.getConfig().getDatacenter()).isEqualTo("dc1");
    assertThat(self.getConfig().getNodeName()).isEqualTo("lodestar");
  }
}
