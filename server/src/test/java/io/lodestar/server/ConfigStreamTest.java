package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.ConfigSubscribe;
import io.lodestar.api.v1.ConfigUpdate;
import io.lodestar.api.v1.Hello;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.ServerMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config subscriptions on the SDK stream, spoken raw: order, gray selection by labels, catch-up. */
class ConfigStreamTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Http http;
  static NamingGrpc.NamingStub stub;
  static final String PATH = "/v1/namespaces/default/configs/app/";

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    http = new Http(server.port());
    stub = GrpcClients.newClient("http://127.0.0.1:" + server.port(), NamingGrpc.NamingStub.class);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static final class Raw implements ClientResponseObserver<ClientMessage, ServerMessage> {
    final List<ConfigUpdate> updates = new CopyOnWriteArrayList<>();
    final List<ServerMessage> all = new CopyOnWriteArrayList<>();
    ClientCallStreamObserver<ClientMessage> out;

    static Raw connect(String id, Map<String, String> labels) {
      Raw r = new Raw();
      stub.connect(r);
      r.send(ClientMessage.newBuilder().setHello(Hello.newBuilder().setClientId(id).putAllLabels(labels)).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> r.all.stream().anyMatch(ServerMessage::hasWelcome));
      return r;
    }

    void subscribe(String name, long known) {
      send(ClientMessage.newBuilder().setConfigSubscribe(ConfigSubscribe.newBuilder().setNamespace("default")
          .setGroup("app").setName(name).setKnownVersion(known)).build());
    }

    synchronized void send(ClientMessage m) {
      out.onNext(m);
    }

    List<Long> versions(String name) {
      return updates.stream().filter(u -> u.getName().equals(name)).map(ConfigUpdate::getVersion).toList();
    }

    ConfigUpdate last(String name) {
      List<ConfigUpdate> l = updates.stream().filter(u -> u.getName().equals(name)).toList();
      return l.isEmpty() ? null : l.get(l.size() - 1);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ClientMessage> requestStream) {
      out = requestStream;
    }

    @Override
    public void onNext(ServerMessage m) {
      all.add(m);
      if (m.hasConfigUpdate()) {
        updates.add(m.getConfigUpdate());
      }
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    void close() {
      out.onCompleted();
    }
  }

  @Test
  void everyVersionArrivesInOrderAndAResubscriptionOnlyConfirms() {
    Raw c = Raw.connect("c1", Map.of());
    c.subscribe("order.txt", 0);
    await().atMost(Duration.ofSeconds(30)).until(() -> c.last("order.txt") != null);
    assertThat(c.last("order.txt").getDeleted()).isTrue();  // does not exist yet
    for (int i = 1; i <= 20; i++) {
      http.put(PATH + "order.txt", "v" + i);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> c.last("order.txt").getVersion() == 20);
    List<Long> seen = c.versions("order.txt");
    for (int i = 1; i < seen.size(); i++) {
      assertThat(seen.get(i)).isGreaterThan(seen.get(i - 1));
    }
    assertThat(c.last("order.txt").getContent().toStringUtf8()).isEqualTo("v20");
    c.close();

    Raw again = Raw.connect("c1", Map.of());
    again.subscribe("order.txt", 20);
    await().atMost(Duration.ofSeconds(30)).until(() -> again.last("order.txt") != null);
    assertThat(again.last("order.txt").getVersion()).isEqualTo(20);
    assertThat(again.last("order.txt").getContent().isEmpty()).isTrue();  // a confirmation, no content
    again.close();
  }

  @Test
  void grayCandidateReachesOnlyMatchingClientsUntilPromoted() {
    http.put(PATH + "g.yaml", "v: 1\n");
    Raw sh = Raw.connect("in-sh", Map.of("zone", "sh"));
    Raw bj = Raw.connect("in-bj", Map.of("zone", "bj"));
    sh.subscribe("g.yaml", 0);
    bj.subscribe("g.yaml", 0);
    await().atMost(Duration.ofSeconds(30)).until(() -> sh.last("g.yaml") != null && bj.last("g.yaml") != null);

    http.put(PATH + "g.yaml/gray?labels=zone=sh", "v: 2\n");
    await().atMost(Duration.ofSeconds(30)).until(() -> sh.last("g.yaml").getVersion() == 2);
    assertThat(sh.last("g.yaml").getGray()).isTrue();
    assertThat(bj.versions("g.yaml")).containsExactly(1L);
    // Which client holds which version is visible over REST.
    await().atMost(Duration.ofSeconds(30)).until(() ->
        http.get(PATH + "g.yaml/clients").json().get("clients").size() == 2);
    var clients = http.get(PATH + "g.yaml/clients").json().get("clients");
    assertThat(clients.get(0).get("clientId").asText()).isEqualTo("in-bj");
    assertThat(clients.get(0).get("version").asLong()).isEqualTo(1);
    assertThat(clients.get(1).get("version").asLong()).isEqualTo(2);
    assertThat(clients.get(1).get("gray").asBoolean()).isTrue();

    http.post(PATH + "g.yaml/gray/promote", "");
    await().atMost(Duration.ofSeconds(30)).until(() -> bj.last("g.yaml").getVersion() == 2);
    assertThat(bj.last("g.yaml").getContent().toStringUtf8()).isEqualTo("v: 2\n");
    assertThat(sh.versions("g.yaml")).containsExactly(1L, 2L);  // nothing new for the gray client

    http.put(PATH + "g.yaml/gray?labels=zone=sh", "v: 3\n");
    http.post(PATH + "g.yaml/gray/abort", "");
    // The gray client moves forward to the release's content, never back to an older version.
    await().atMost(Duration.ofSeconds(30)).until(() -> sh.last("g.yaml").getVersion() == 4);
    assertThat(sh.last("g.yaml").getContent().toStringUtf8()).isEqualTo("v: 2\n");
    assertThat(sh.versions("g.yaml")).isSorted();
    sh.close();
    bj.close();
  }
}
