package io.lodestar.core.governance;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.WireEnums;
import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LaneRule;
import io.lodestar.api.v1.LaneRules;
import io.lodestar.api.v1.Nearby;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteRules;
import io.lodestar.api.v1.state.PutRules;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.StateMachine;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Commands and a snapshot serialized by the version before rule enumerations were proto enums
 * (commit 1fb13ee, where policy, algorithm, action, scope, fail mode and DeleteRules.kind were
 * strings), replayed by this one: the state is the one the same writes give in today's form.
 */
class LegacyRulesTest {
  // lb ring_hash + hashHeader on orders; rate limits a (token_bucket, wait, cluster, closed) and
  // b (sliding_window) on orders; the namespace default adaptive; then delete orders' ratelimit
  private static final List<String> OLD_COMMANDS = List.of(
      "COgH8gEoCgdkZWZhdWx0EgZvcmRlcnMaFQoTGglyaW5nX2hhc2giBngtdXNlcg==",
      "COkH8gFYCgdkZWZhdWx0EgZvcmRlcnMaRSJDGioKAWEYCioMdG9rZW5fYnVja2V0OgR3YWl0SgdjbHVzdGVyUgZjbG9zZWQaFQoBYhgFKg5zbGlkaW5nX3dpbmRvdw==",
      "COoH8gEXCgdkZWZhdWx0GgwKChoIYWRhcHRpdmU=",
      "COsH+gEcCgdkZWZhdWx0EgZvcmRlcnMaCXJhdGVsaW1pdA==");
  // the old version's snapshot after the first three commands
  private static final String OLD_SNAPSHOT =
      "CAMSoAEIBBIdCgdkZWZhdWx0ogERCg8IARDqBxoIYWRhcHRpdmUafQoHZGVmYXVsdBIGb3JkZXJzKAQw6AeiAWQKGAgBEOgHGglyaW5nX2hhc2giBngtdXNlciJICAEQ6QcaKgoBYRgKKgx0b2tlbl9idWNrZXQ6BHdhaXRKB2NsdXN0ZXJSBmNsb3NlZBoVCgFiGAUqDnNsaWRpbmdfd2luZG93GgAiACoAMgIIAQ==";

  private static Command put(long time, String service, GovernanceRules rules) {
    return Command.newBuilder().setTimeMs(time).setPutRules(PutRules.newBuilder().setNamespace("default")
        .setService(service).setRules(rules)).build();
  }

  /** The same four writes, made today. */
  private static List<Command> current() {
    return List.of(
        put(1000, "orders", GovernanceRules.newBuilder().setLoadbalance(LoadBalanceRule.newBuilder()
            .setPolicy(LoadBalanceRule.Policy.RING_HASH).setHashHeader("x-user")).build()),
        put(1001, "orders", GovernanceRules.newBuilder().setRatelimit(RateLimitRules.newBuilder()
            .addRules(RateLimitRule.newBuilder().setName("a").setLimit(10)
                .setAlgorithm(RateLimitRule.Algorithm.TOKEN_BUCKET).setAction(RateLimitRule.Action.WAIT)
                .setScope(RateLimitRule.Scope.CLUSTER).setFailMode(RateLimitRule.FailMode.CLOSED))
            .addRules(RateLimitRule.newBuilder().setName("b").setLimit(5)
                .setAlgorithm(RateLimitRule.Algorithm.SLIDING_WINDOW))).build()),
        put(1002, "", GovernanceRules.newBuilder().setLoadbalance(LoadBalanceRule.newBuilder()
            .setPolicy(LoadBalanceRule.Policy.ADAPTIVE)).build()),
        Command.newBuilder().setTimeMs(1003).setDeleteRules(DeleteRules.newBuilder().setNamespace("default")
            .setService("orders").setKind(io.lodestar.api.v1.RuleKind.RATELIMIT)).build());
  }

  private static StateMachine replay(List<Command> commands) {
    StateMachine sm = new StateMachine();
    for (Command c : commands) {
      StateMachine.validate(c);
      sm.apply(c);
      sm.flush();
    }
    return sm;
  }

  private static List<Command> decode(List<String> b64) throws Exception {
    List<Command> out = new java.util.ArrayList<>();
    for (String s : b64) {
      out.add(Command.parseFrom(Base64.getDecoder().decode(s)));
    }
    return out;
  }

  @Test
  void oldCommandsReplayToTheStateTheirCurrentFormGives() throws Exception {
    List<Command> old = decode(OLD_COMMANDS);
    // what protobuf makes of the old bytes: the strings sit in unknown fields, the enums are unset
    assertThat(old.get(0).getPutRules().getRules().getLoadbalance().getPolicy())
        .isEqualTo(LoadBalanceRule.Policy.POLICY_UNSPECIFIED);
    assertThat(LegacyRules.upgrade(old.get(0))).isEqualTo(current().get(0));
    assertThat(LegacyRules.upgrade(old.get(1))).isEqualTo(current().get(1));
    assertThat(LegacyRules.upgrade(old.get(3))).isEqualTo(current().get(3));

    StateMachine fromOld = replay(old.subList(0, 3));
    StateMachine fromNew = replay(current().subList(0, 3));
    assertThat(fromOld.snapshot(3)).isEqualTo(fromNew.snapshot(3));
    GovernanceRules orders = fromOld.registry().view("default", "orders").info().getRules();
    assertThat(orders.getRatelimit().getRules(0).getScope()).isEqualTo(RateLimitRule.Scope.CLUSTER);
    assertThat(orders.getLoadbalance().getPolicy()).isEqualTo(LoadBalanceRule.Policy.RING_HASH);

    // the old delete names its kind as a string
    assertThat(replay(old).snapshot(4)).isEqualTo(replay(current()).snapshot(4));
    assertThat(replay(old).registry().ownRules("default", "orders").hasRatelimit()).isFalse();
  }

  @Test
  void anOldSnapshotRestoresToTheStateTheCurrentFormGives() throws Exception {
    StateSnapshot old = StateSnapshot.parseFrom(Base64.getDecoder().decode(OLD_SNAPSHOT));
    StateMachine restored = new StateMachine();
    restored.restore(old);
    assertThat(restored.snapshot(3)).isEqualTo(replay(current().subList(0, 3)).snapshot(3));
    // and the log after it, in the old form, goes on from there
    restored.apply(decode(OLD_COMMANDS).get(3));
    restored.flush();
    assertThat(restored.snapshot(4)).isEqualTo(replay(current()).snapshot(4));
  }

  // Written by 736609a, where the route's and each lane's fallback were still strings: a route on
  // orders (v2 subset, fallback fail), the namespace's lanes canary (fail), blue (baseline) and
  // green (unset), a route on pay (nearby, fallback all); and the snapshot after them.
  private static final List<String> OLD_FALLBACK_COMMANDS = List.of(
      "CNAP8gExCgdkZWZhdWx0EgZvcmRlcnMaHhIcGhQKAnYyGg4KDAoHdmVyc2lvbhIBMioEZmFpbA==",
      "CNEP8gE4CgdkZWZhdWx0Gi0qKxoOCgZjYW5hcnkaBGZhaWwaEAoEYmx1ZRoIYmFzZWxpbmUaBwoFZ3JlZW4=",
      "CNIP8gEbCgdkZWZhdWx0EgNwYXkaCxIJIgIIASoDYWxs");
  private static final String OLD_FALLBACK_SNAPSHOT = "CAMSqAEIBRI+CgdkZWZhdWx0ogEyKjAIARDRDxoOCgZjYW5hcnkaBGZhaWwa"
      + "EAoEYmx1ZRoIYmFzZWxpbmUaBwoFZ3JlZW4aPAoHZGVmYXVsdBIGb3JkZXJzKAMw0A+iASMSIQgBENAPGhQKAnYyGg4KDAoHdmVyc2lvbhIB"
      + "MioEZmFpbBomCgdkZWZhdWx0EgNwYXkoBTDSD6IBEBIOCAEQ0g8iAggBKgNhbGwaACIAKgAyAggB";

  /** The same three writes with the fallbacks as enums. */
  private static List<Command> currentFallbacks() {
    return List.of(
        put(2000, "orders", GovernanceRules.newBuilder().setRoute(RouteRules.newBuilder()
            .addRules(RouteRule.newBuilder().setName("v2").addDestinations(Destination.newBuilder()
                .putSubset("version", "2")))
            .setFallback(RouteRules.Fallback.FAIL)).build()),
        put(2001, "", GovernanceRules.newBuilder().setLane(LaneRules.newBuilder()
            .addLanes(LaneRule.newBuilder().setName("canary").setFallback(LaneRule.Fallback.FAIL))
            .addLanes(LaneRule.newBuilder().setName("blue").setFallback(LaneRule.Fallback.BASELINE))
            .addLanes(LaneRule.newBuilder().setName("green"))).build()),
        put(2002, "pay", GovernanceRules.newBuilder().setRoute(RouteRules.newBuilder()
            .setNearby(Nearby.newBuilder().setEnabled(true)).setFallback(RouteRules.Fallback.ALL)).build()));
  }

  @Test
  void oldFallbackStringsReplayAndRestoreAsTheirEnums() throws Exception {
    List<Command> old = decode(OLD_FALLBACK_COMMANDS);
    assertThat(old.get(0).getPutRules().getRules().getRoute().getFallback())
        .isEqualTo(RouteRules.Fallback.FALLBACK_UNSPECIFIED);
    for (int i = 0; i < old.size(); i++) {
      assertThat(LegacyRules.upgrade(old.get(i))).isEqualTo(currentFallbacks().get(i));
    }
    StateMachine fromOld = replay(old);
    assertThat(fromOld.snapshot(3)).isEqualTo(replay(currentFallbacks()).snapshot(3));
    // a lane is namespace-scoped: every service of the namespace carries it, upgraded
    GovernanceRules orders = fromOld.registry().view("default", "orders").info().getRules();
    assertThat(orders.getRoute().getFallback()).isEqualTo(RouteRules.Fallback.FAIL);
    assertThat(orders.getLane().getLanesList()).extracting(LaneRule::getFallback).containsExactly(
        LaneRule.Fallback.FAIL, LaneRule.Fallback.BASELINE, LaneRule.Fallback.FALLBACK_UNSPECIFIED);
    assertThat(orders.getLane().getLanes(0).getUnknownFields().asMap()).isEmpty();

    StateMachine restored = new StateMachine();
    restored.restore(StateSnapshot.parseFrom(Base64.getDecoder().decode(OLD_FALLBACK_SNAPSHOT)));
    assertThat(restored.snapshot(3)).isEqualTo(fromOld.snapshot(3));
    assertThat(restored.registry().view("default", "pay").info().getRules().getRoute().getFallback())
        .isEqualTo(RouteRules.Fallback.ALL);
  }

  @Test
  void theKindsOfCoreAndTheWireAreOneList() {
    assertThat(java.util.Arrays.stream(RuleKind.values()).map(RuleKind::wireName).toList())
        .isEqualTo(WireEnums.names(io.lodestar.api.v1.RuleKind.getDescriptor()));
  }
}
