package io.lodestar.server.naming;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.TextFormat;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.HttpCheck;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.TcpCheck;
import io.lodestar.core.LodestarException;
import io.lodestar.server.http.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The REST API's instance, namespace and service JSON, byte for byte, and what a registration or
 * an update body becomes or is refused with (field and message), held against a golden file
 * recorded from the hand-written mapping the record-based one replaced. Every shape the API emits
 * (optional fields set and unset, each health check variant, metadata, tags, isolation, weight,
 * dates) and every check of a body is one case. {@code -Dgolden.update=true} rewrites the file
 * (review the diff: a change there is a change of the REST contract).
 */
class InstanceJsonGoldenTest {
  private static final String GOLDEN = "golden/instance-json.txt";
  private static final long AT = 1_764_547_200_123L;  // 2025-12-01T00:00:00.123Z

  @Test
  void everyShapeMatchesTheGoldenFile() throws IOException {
    Map<String, String> actual = new LinkedHashMap<>();
    emitted(actual);
    registrations(actual);
    updates(actual);
    services(actual);
    StringBuilder text = new StringBuilder();
    actual.forEach((k, v) -> text.append("## ").append(k).append('\n').append(v).append('\n'));
    if (Boolean.getBoolean("golden.update")) {
      Path file = Path.of("src/test/resources", GOLDEN);
      Files.writeString(file, text.toString());
    }
    String expected;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(GOLDEN)) {
      assertThat(in).as(GOLDEN).isNotNull();
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(text.toString()).isEqualTo(expected);
  }

  private static Instance.Builder base() {
    return Instance.newBuilder().setId("10.0.0.1:8080").setNamespace("default").setService("orders")
        .setHost("10.0.0.1").setPort(8080);
  }

  private static void emitted(Map<String, String> out) {
    Map<String, Instance> shapes = new LinkedHashMap<>();
    shapes.put("bare (nothing optional set)", base().build());
    shapes.put("ephemeral, as registered", base().setProtocol("http").setWeight(100).setEphemeral(true)
        .setTtlSeconds(5).setRevision(7).setRegisteredAtMs(AT).build());
    shapes.put("ephemeral, every optional field", base().setProtocol("grpc").setWeight(0).setEphemeral(true)
        .setTtlSeconds(30).putMetadata("zone", "z1").putMetadata("a", "1").putMetadata("quote", "say \"hi\"\n\u00e9")
        .addTags("primary").addTags("v2").setRemoveAfterSeconds(90).setHealth(HealthStatus.UNHEALTHY)
        .setIsolated(true).setRevision(Long.MAX_VALUE).setRegisteredAtMs(AT).setLeaseHolder("node-2")
        .setOwner("conn-41").setCheckId("service:orders").build());
    shapes.put("an operator's weight in force", base().setWeight(0).setRegisteredWeight(40).setEphemeral(true)
        .setTtlSeconds(5).setRegisteredAtMs(AT).build());
    shapes.put("weight 10000, whole-second date", base().setWeight(10_000).setEphemeral(true).setTtlSeconds(5)
        .setRegisteredAtMs(1_764_547_200_000L).build());
    shapes.put("persistent, no check", base().setEphemeral(false).setTtlSeconds(5).setWeight(50)
        .setHealth(HealthStatus.HEALTHY).build());
    shapes.put("persistent, tcp check with defaults", base().setCheck(HealthCheck.newBuilder()
        .setTcp(TcpCheck.getDefaultInstance())).build());
    shapes.put("persistent, tcp check with address and times", base().setCheck(HealthCheck.newBuilder()
        .setTcp(TcpCheck.newBuilder().setAddress("10.0.0.9:9000")).setIntervalSeconds(3).setTimeoutSeconds(1))
        .build());
    shapes.put("persistent, http check path", base().setCheck(HealthCheck.newBuilder()
        .setHttp(HttpCheck.newBuilder().setPath("/health")).setIntervalSeconds(60)).build());
    shapes.put("persistent, http check url", base().setCheck(HealthCheck.newBuilder()
        .setHttp(HttpCheck.newBuilder().setPath("/").setUrl("https://10.0.0.1:8443/ready")).setTimeoutSeconds(9))
        .build());
    shapes.put("check with no kind", base().setCheck(HealthCheck.newBuilder().setIntervalSeconds(4)).build());
    shapes.put("health unknown", base().setHealthValue(0).build());
    shapes.put("date before the epoch", base().setRegisteredAtMs(-1).build());
    shapes.forEach((name, i) -> out.put("instance: " + name, InstanceJson.toJson(i).toString()));

    out.put("namespace: built-in default", InstanceJson.toJson(Namespace.newBuilder().setName("default").build())
        .toString());
    out.put("namespace: created", InstanceJson.toJson(Namespace.newBuilder().setName("prod")
        .setDescription("production \"eu\"").setCreatedAtMs(AT).build()).toString());
    out.put("service: defaults", InstanceJson.toJson(ServiceInfo.newBuilder().setNamespace("default")
        .setName("orders").build()).toString());
    out.put("service: everything set", InstanceJson.toJson(ServiceInfo.newBuilder().setNamespace("prod")
        .setName("pay").putMetadata("team", "p").putMetadata("owner", "x").setProtectThreshold(1.0)
        .setRevision(12).setCreatedAtMs(AT).build()).toString());
    out.put("service: threshold 0.25", InstanceJson.toJson(ServiceInfo.newBuilder().setNamespace("prod")
        .setName("pay").setProtectThreshold(0.25).build()).toString());
  }

  private static final String[] REGISTRATIONS = {
      "{\"host\":\"10.0.0.1\",\"port\":8080}",
      "{\"host\":\"svc.local\",\"port\":1,\"id\":\"a-1\",\"protocol\":\"grpc\",\"weight\":0,\"ephemeral\":true,"
          + "\"ttlSeconds\":30,\"metadata\":{\"zone\":\"z1\",\"n\":5,\"f\":1.50,\"b\":true}}",
      "{\"host\":\"10.0.0.1\",\"port\":65535,\"weight\":10000,\"metadata\":null,\"check\":null,\"id\":null,"
          + "\"protocol\":null}",
      "{\"host\":\"::1\",\"port\":80}",
      "{\"host\":\"[fe80::1%eth0]\",\"port\":80}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"tcp\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/ready\","
          + "\"intervalSeconds\":5,\"timeoutSeconds\":2}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"tcp\",\"path\":\"/x\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/health%20x?full=1\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":{}}",
      "{\"port\":80,\"host\":\"10.0.0.1\",\"weight\":7.0}",
      // refused
      "{}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"colour\":\"red\"}",
      "{\"port\":\"x\",\"colour\":1}",
      "{\"port\":\"x\"}",
      "{\"host\":5,\"port\":80}",
      "{\"host\":\"\",\"port\":80}",
      "{\"host\":\"bad host!\",\"port\":80}",
      "{\"host\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbb.example.com\",\"port\":80}",
      "{\"host\":\"10.0.0.1\"}",
      "{\"host\":\"10.0.0.1\",\"port\":\"80\"}",
      "{\"host\":\"10.0.0.1\",\"port\":80.5}",
      "{\"host\":\"10.0.0.1\",\"port\":0}",
      "{\"host\":\"10.0.0.1\",\"port\":65536}",
      "{\"host\":\"10.0.0.1\",\"port\":99999999999999999999}",
      "{\"host\":\"10.0.0.1\",\"port\":null}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"id\":7}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"protocol\":[]}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":-1}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":10001}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":\"5\"}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":null}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":[]}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":\"a=b\"}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":{\"a\":{\"b\":1}}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":{\"a\":null}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":{\"a\":[\"b\"]}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"metadata\":{\"big\":1e400}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":\"yes\"}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":null}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ttlSeconds\":0}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ttlSeconds\":100000}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ttlSeconds\":\"5\"}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":\"tcp\"}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"grpc\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":7}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"http\",\"url\":\"http://x\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"http\",\"path\":5}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"http\",\"path\":null}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"health\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/health x\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/health%zz\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"ephemeral\":false,\"check\":{\"type\":\"http\",\"path\":\"/a\\r\\nX-Evil: 1\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"tcp\",\"intervalSeconds\":0}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"tcp\",\"intervalSeconds\":100000}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"tcp\",\"intervalSeconds\":\"5\"}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"tcp\",\"timeoutSeconds\":0}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"tcp\",\"timeoutSeconds\":100000}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"tcp\",\"timeoutSeconds\":1.5}}",
      "{\"host\":\"10.0.0.1\",\"port\":80,\"check\":{\"type\":\"grpc\",\"colour\":1}}",
  };

  private static void registrations(Map<String, String> out) {
    for (String body : REGISTRATIONS) {
      out.put("register " + body, outcome(() -> {
        Instance i = InstanceJson.parseRegistration(Json.parseObject(body), "default", "orders");
        return TextFormat.printer().emittingSingleLine(true).printToString(i) + "\n=> "
            + InstanceJson.toJson(i);
      }));
    }
  }

  private static final String[] UPDATES = {
      "{\"weight\":5}", "{\"isolated\":true}", "{\"weight\":0,\"isolated\":false}", "{}", "{\"weight\":null}",
      "{\"colour\":1}", "{\"weight\":-1}", "{\"weight\":10001}", "{\"weight\":\"5\"}", "{\"weight\":1.5}",
      "{\"isolated\":\"true\"}", "{\"isolated\":null}", "{\"weight\":\"x\",\"colour\":1}",
      "{\"restoreWeight\":true}", "{\"restoreWeight\":true,\"isolated\":false}", "{\"restoreWeight\":false}",
      "{\"restoreWeight\":true,\"weight\":5}", "{\"restoreWeight\":null}", "{\"restoreWeight\":1}",
  };

  private static void updates(Map<String, String> out) {
    for (String body : UPDATES) {
      out.put("update " + body, outcome(() -> TextFormat.printer().emittingSingleLine(true).printToString(
          InstanceJson.parseUpdate(Json.parseObject(body), "default", "orders", "a-1"))));
    }
  }

  private static final String[] SERVICES = {
      "{}", "{\"metadata\":{\"team\":\"p\",\"n\":5,\"f\":1.50,\"b\":false}}", "{\"protectThreshold\":0.25}",
      "{\"protectThreshold\":1}",
      // refused
      "{\"protectThreshold\":0,\"metadata\":{}}", "{\"protectThreshold\":0.0}", "{\"protectThreshold\":1e-400}",
      "{\"colour\":1}", "{\"metadata\":null}", "{\"metadata\":[]}", "{\"metadata\":{\"a\":null}}",
      "{\"metadata\":{\"a\":{}}}", "{\"protectThreshold\":null}", "{\"protectThreshold\":\"0.5\"}",
      "{\"protectThreshold\":true}", "{\"protectThreshold\":1.5}", "{\"protectThreshold\":-0.1}",
      "{\"protectThreshold\":\"x\",\"colour\":1}",
  };

  private static void services(Map<String, String> out) {
    for (String body : SERVICES) {
      out.put("service " + body, outcome(() -> TextFormat.printer().emittingSingleLine(true).printToString(
          InstanceJson.parseService(Json.parseObject(body), "default", "orders"))));
    }
  }

  private static String outcome(Supplier<String> s) {
    try {
      return s.get();
    } catch (LodestarException e) {
      return "refused " + e.codeName() + " field=" + e.field() + ": " + e.getMessage();
    }
  }
}
