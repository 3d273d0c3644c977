package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.server.storage.ClusterConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling upgrade, in one JVM: a member that agrees only to feature level 0 (as a member of an
 * older version does, or one started with {@code --hold-feature-level 0}) keeps the cluster's state
 * at level 0, where every member applies an operator's weight as the versions before levels did and
 * a give-back is refused before it is logged. Once it agrees to level 1, the leader raises the level
 * and an operator's weight holds over re-registrations on every member.
 */
class FeatureLevelClusterTest {
  private static final Duration LONG = Duration.ofSeconds(120);
  private static final String BASE = "/v1/namespaces/default/services/orders/instances";
  private static final String REGISTER = "{\"id\":\"a\",\"host\":\"10.0.0.1\",\"port\":80,\"weight\":7,\"ephemeral\":false}";

  @TempDir Path dir;

  private LodestarServer start(String id, String spec, int port, int hold) {
    return LodestarServer.builder().port(port).dataDir(dir.resolve(id))
        .cluster(ClusterConfig.parse(id, spec, 0, false)).holdFeatureLevel(hold).build().start();
  }

  private static JsonNode instance(Http http) {
    return http.get(BASE).json().get("instances").get(0);
  }

  @Test
  void aLevelToHoldThatThisVersionDoesNotKnowIsRefusedByName() {
    for (int bad : new int[] {-1, io.lodestar.core.StateMachine.FEATURE_LEVEL + 1}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> LodestarServer.builder().holdFeatureLevel(bad))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--hold-feature-level must be 0 to "
              + io.lodestar.core.StateMachine.FEATURE_LEVEL).hasMessageContaining("not " + bad);
    }
  }

  /** A single node is every member: it raises the state to the level it agrees to before it serves. */
  @Test
  void aSingleNodeAppliesAtTheLevelItAgreesToFromItsFirstRequest() {
    try (LodestarServer held = LodestarServer.builder().port(0).dataDir(dir.resolve("one")).holdFeatureLevel(0).build()
        .start()) {
      Http http = new Http(held.port());
      assertThat(http.get("/v1/cluster").json().get("featureLevel").asInt()).isZero();
      assertThat(http.post(BASE, REGISTER).status()).isEqualTo(201);
      assertThat(http.patch(BASE + "/a", "{\"restoreWeight\":true}").status()).isEqualTo(409);
    }
    try (LodestarServer upgraded = LodestarServer.builder().port(0).dataDir(dir.resolve("one")).build().start()) {
      Http http = new Http(upgraded.port());
      JsonNode node = http.get("/v1/cluster/node").json();
      assertThat(node.get("featureLevel").asInt()).isEqualTo(io.lodestar.core.StateMachine.FEATURE_LEVEL);
      assertThat(node.get("stateFeatureLevel").asInt()).isEqualTo(io.lodestar.core.StateMachine.FEATURE_LEVEL);
      // the moment commands began to apply another way is in the audit trail, once
      List<JsonNode> raises = new java.util.ArrayList<>();
      http.get("/v1/audit").json().get("entries").forEach(e -> {
        if (e.get("action").asText().equals("raise_feature_level")) {
          raises.add(e);
        }
      });
      assertThat(raises).singleElement().satisfies(e -> {
        assertThat(e.get("actor").asText()).isEqualTo("lodestar");
        assertThat(e.get("target").asText()).isEqualTo("feature level " + io.lodestar.core.StateMachine.FEATURE_LEVEL);
      });
      assertThat(http.patch(BASE + "/a", "{\"weight\":0}").status()).isEqualTo(200);
      assertThat(http.post(BASE, REGISTER).status() / 100).isEqualTo(2);
      assertThat(instance(http).get("weight").asInt()).isZero();
      assertThat(http.patch(BASE + "/a", "{\"restoreWeight\":true}").json().get("weight").asInt()).isEqualTo(7);
    }
  }

  @Test
  void aMemberAgreeingOnlyToLevelZeroHoldsTheClusterThereUntilItAgreesToMore() throws Exception {
    int p1 = ServerProcess.freePortPair();
    int p2 = ServerProcess.freePortPair();
    String spec = "n1=127.0.0.1:" + p1 + ",n2=127.0.0.1:" + p2;
    CompletableFuture<LodestarServer> second = CompletableFuture.supplyAsync(() -> start("n2", spec, p2, 0));
    LodestarServer n1 = start("n1", spec, p1, io.lodestar.core.StateMachine.FEATURE_LEVEL);
    LodestarServer n2 = second.join();
    try {
      Http h1 = new Http(p1);
      Http h2 = new Http(p2);
      assertThat(h2.get("/v1/cluster/node").json().get("featureLevel").asInt()).isZero();
      assertThat(h1.get("/v1/cluster/node").json().get("featureLevel").asInt()).isEqualTo(1);
      // the leader has looked at every member and waits for n2
      Http leader = await().atMost(LONG).ignoreExceptions().until(() -> {
        for (Http h : List.of(h1, h2)) {
          JsonNode c = h.get("/v1/cluster").json();
          if (c.path("featureLevelWaitsFor").toString().contains("n2 (level 0)")) {
            return h;
          }
        }
        return null;
      }, h -> h != null);
      assertThat(leader.get("/v1/cluster").json().get("featureLevel").asInt()).isZero();
      await().atMost(LONG).ignoreExceptions().until(() -> h1.post(BASE, REGISTER).status() / 100 == 2);

      // level 0: a registration replaces the operator's weight, as every member of an older version applies it
      assertThat(h1.patch(BASE + "/a", "{\"weight\":0}").status()).isEqualTo(200);
      Http.Response refused = h2.patch(BASE + "/a", "{\"restoreWeight\":true}");
      assertThat(refused.status()).as(refused.body()).isEqualTo(409);
      assertThat(refused.json().at("/error/field").asText()).isEqualTo("restoreWeight");
      assertThat(refused.json().at("/error/message").asText()).contains("level 0");
      assertThat(h2.post(BASE, REGISTER).status() / 100).isEqualTo(2);
      for (Http h : List.of(h1, h2)) {
        await().atMost(LONG).untilAsserted(() -> {
          assertThat(instance(h).get("weight").asInt()).isEqualTo(7);
          assertThat(instance(h).has("registeredWeight")).isFalse();
        });
      }

      // level 0: a restore travels whole, as an older member reads it; a backup of a later level is refused
      Http.Response b = h1.post("/v1/cluster/backup", "{}");
      assertThat(b.status()).as(b.body()).isEqualTo(201);
      Path backups = dir.resolve("n1").resolve("backups");
      io.lodestar.api.v1.state.StateSnapshot taken = Backups.read(backups.resolve(b.json().get("name").asText()));
      assertThat(taken.getFeatureLevel()).isZero();
      Http.Response restored = h1.post("/v1/cluster/restore", "{\"name\":\"" + b.json().get("name").asText() + "\"}");
      assertThat(restored.status()).as(restored.body()).isEqualTo(200);
      assertThat(restored.json().get("instances").asInt()).isEqualTo(1);
      assertThat(restored.json().get("entryBytes").asLong()).as("the state as stored, not deflated")
          .isEqualTo(taken.getSerializedSize());
      ClusterTest.writeSingleNodeSnapshot(backups.resolve("snapshot-later.bin"), taken.toBuilder().setFeatureLevel(1).build());
      Http.Response later = h1.post("/v1/cluster/restore", "{\"name\":\"snapshot-later.bin\"}");
      assertThat(later.status()).as(later.body()).isEqualTo(409);
      assertThat(later.json().at("/error/field").asText()).isEqualTo("name");
      assertThat(later.json().at("/error/message").asText()).contains("feature level 1");

      // n2 agrees to level 1 (restarted, as after its upgrade): the leader raises the level
      n2.close();
      n2 = start("n2", spec, p2, io.lodestar.core.StateMachine.FEATURE_LEVEL);
      for (Http h : List.of(h1, h2)) {
        await().atMost(LONG).ignoreExceptions().until(() ->
            h.get("/v1/cluster/node").json().get("stateFeatureLevel").asInt() == 1);
      }
      assertThat(h1.patch(BASE + "/a", "{\"weight\":0}").status()).isEqualTo(200);
      await().atMost(LONG).ignoreExceptions().until(() -> h2.post(BASE, REGISTER).status() / 100 == 2);
      for (Http h : List.of(h1, h2)) {
        await().atMost(LONG).untilAsserted(() -> {
          assertThat(instance(h).get("weight").asInt()).isZero();
          assertThat(instance(h).get("registeredWeight").asInt()).isEqualTo(7);
        });
      }
      Http.Response given = h2.patch(BASE + "/a", "{\"restoreWeight\":true}");
      assertThat(given.status()).as(given.body()).isEqualTo(200);
      assertThat(given.json().get("weight").asInt()).isEqualTo(7);

      // a member that would apply the state's commands at a lower level is refused before it joins
      int p3 = ServerProcess.freePortPair();
      String three = spec + ",n3=127.0.0.1:" + p3;
      try (LodestarServer n3 = LodestarServer.builder().port(p3).dataDir(dir.resolve("n3"))
          .cluster(ClusterConfig.parse("n3", three, 0, true)).holdFeatureLevel(0).build().start()) {
        Http.Response join = h1.post("/v1/cluster/members", "{\"id\":\"n3\",\"address\":\"127.0.0.1:" + p3 + "\"}");
        assertThat(join.status()).as(join.body()).isEqualTo(409);
        assertThat(join.json().at("/error/field").asText()).isEqualTo("id");
        assertThat(join.json().at("/error/message").asText()).contains("agrees to feature level 0");
        assertThat(h1.get("/v1/cluster").json().get("members")).hasSize(2);
      }
    } finally {
      n2.close();
      n1.close();
    }
  }
}
