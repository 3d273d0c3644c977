package io.lodestar.client.internal.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.Match;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.client.route.CallContext;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  static MatchValue exact(String v) {
    return MatchValue.newBuilder().setExact(v).build();
  }

  @Test
  void canarySplitsFivePercentWithinHalfAPercent() {
    RouteRules rules = RouteRules.newBuilder().addRules(RouteRule.newBuilder().setName("canary")
        .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(95))
        .addDestinations(Destination.newBuilder().putSubset("version", "2").setWeight(5))).build();
    RouteTable t = RouteTable.compile(rules, Map.of());
    SplittableRandom rnd = new SplittableRandom(1);
    int v2 = 0;
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      if (t.subsets().get(t.select(CallContext.empty(), rnd.nextLong())).get("version").equals("2")) {
        v2++;
      }
    }
    // σ of the share is 0.05 %; tolerance 0.5 %
    assertThat((double) v2 / n).isCloseTo(0.05, within(0.005));
  }

  @Test
  void matchesHeadersLabelsMethodAndCallerFirstRuleWins() {
    RouteRules rules = RouteRules.newBuilder()
        .addRules(RouteRule.newBuilder().setName("testers")
            .setMatch(Match.newBuilder().putHeaders("X-User", MatchValue.newBuilder().setRegex("test-.*").build())
                .setMethod(MatchValue.newBuilder().addIn("/pay").addIn("/refund")))
            .addDestinations(Destination.newBuilder().putSubset("version", "2")))
        .addRules(RouteRule.newBuilder().setName("not-gold")
            .setMatch(Match.newBuilder().putLabels("tier", MatchValue.newBuilder().addNotIn("gold").build()))
            .addDestinations(Destination.newBuilder().putSubset("pool", "shared")))
        .addRules(RouteRule.newBuilder().setName("from-sh")
            .setMatch(Match.newBuilder().putCaller("zone", exact("sh")))
            .addDestinations(Destination.newBuilder().putSubset("zone", "sh")))
        .build();
    RouteTable t = RouteTable.compile(rules, Map.of("zone", "bj"));
    CallContext tester = CallContext.builder().method("/pay").header("x-user", "test-1").label("tier", "gold").build();
    assertThat(t.subsets().get(t.select(tester, 0))).isEqualTo(Map.of("version", "2"));
    CallContext wrongMethod = CallContext.builder().method("/list").header("X-USER", "test-1").label("tier", "gold")
        .build();
    assertThat(t.select(wrongMethod, 0)).isEqualTo(RouteTable.ALL);  // gold, and the caller is not in sh
    CallContext silver = CallContext.builder().label("tier", "silver").build();
    assertThat(t.subsets().get(t.select(silver, 0))).isEqualTo(Map.of("pool", "shared"));
    // a missing label is "not in" anything
    assertThat(t.subsets().get(t.select(CallContext.empty(), 0))).isEqualTo(Map.of("pool", "shared"));
  }

  @Test
  void explainsWhichRuleMatchedAndWhichOfItsSubsetsHoldsTheChosenInstance() {
    RouteRules rules = RouteRules.newBuilder()
        .addRules(RouteRule.newBuilder().setName("testers")
            .setMatch(Match.newBuilder().putHeaders("x-user", exact("test")))
            .addDestinations(Destination.newBuilder().putSubset("version", "2")))
        .addRules(RouteRule.newBuilder()  // unnamed: named by its index
            .addDestinations(Destination.newBuilder().putSubset("version", "1").setWeight(50))
            .addDestinations(Destination.newBuilder().putSubset("version", "3").setWeight(50)))
        .build();
    RouteTable t = RouteTable.compile(rules, Map.of());
    CallContext tester = CallContext.builder().header("x-user", "test").build();
    assertThat(t.matchedRule(tester)).isEqualTo("testers");
    assertThat(t.subsetOf(tester, Map.of("version", "2", "zone", "bj"))).isEqualTo(Map.of("version", "2"));
    assertThat(t.subsetOf(tester, Map.of("version", "1"))).isNull();  // fell back to every instance
    assertThat(t.matchedRule(CallContext.empty())).isEqualTo("#1");
    assertThat(t.subsetOf(CallContext.empty(), Map.of("version", "3"))).isEqualTo(Map.of("version", "3"));
    assertThat(RouteTable.none().matchedRule(tester)).isNull();
    assertThat(RouteTable.none().subsetOf(tester, Map.of())).isNull();
  }

  record Node(String id, Map<String, String> md, boolean healthy) {}

  @Test
  void nearbyPrefersZoneThenRegionThenAll() {
    Nearby nearby = Nearby.of(io.lodestar.api.v1.Nearby.newBuilder().setEnabled(true).setMinHealthyShare(0.3).build());
    Map<String, String> caller = Map.of("zone", "sh-1", "region", "sh");
    List<Node> nodes = List.of(
        new Node("a", Map.of("zone", "sh-1", "region", "sh"), true),
        new Node("b", Map.of("zone", "sh-1", "region", "sh"), true),
        new Node("c", Map.of("zone", "sh-2", "region", "sh"), true),
        new Node("d", Map.of("zone", "bj-1", "region", "bj"), true));
    var s = nearby.select(nodes, Node::md, Node::healthy, caller);
    assertThat(s.tier()).isEqualTo(Nearby.Tier.ZONE);
    assertThat(s.members()).extracting(Node::id).containsExactly("a", "b");

    // one of two healthy in the zone: 50 % ≥ 30 % still holds
    List<Node> half = List.of(nodes.get(0), new Node("b", nodes.get(1).md(), false), nodes.get(2), nodes.get(3));
    assertThat(nearby.select(half, Node::md, Node::healthy, caller).members()).extracting(Node::id).containsExactly("a");

    // none healthy in the zone: the region (1 of 3 healthy ≥ 30 %)
    List<Node> zoneDown = List.of(new Node("a", nodes.get(0).md(), false), new Node("b", nodes.get(1).md(), false),
        nodes.get(2), nodes.get(3));
    s = nearby.select(zoneDown, Node::md, Node::healthy, caller);
    assertThat(s.tier()).isEqualTo(Nearby.Tier.REGION);
    assertThat(s.members()).extracting(Node::id).containsExactly("c");

    // region below its share too: everything healthy
    List<Node> regionDown = List.of(zoneDown.get(0), zoneDown.get(1), new Node("c", nodes.get(2).md(), false),
        nodes.get(3));
    s = nearby.select(regionDown, Node::md, Node::healthy, caller);
    assertThat(s.tier()).isEqualTo(Nearby.Tier.ALL);
    assertThat(s.members()).extracting(Node::id).containsExactly("d");
  }
}
