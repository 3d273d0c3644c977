package io.lodestar.core.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteRules;
import io.lodestar.api.v1.state.PutRules;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import io.lodestar.core.naming.ServiceChange;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GovernanceTest {
  final StateMachine sm = new StateMachine();
  final List<ServiceChange> changes = new ArrayList<>();

  GovernanceTest() {
    sm.registry().addListener(changes::add);
  }

  static Command put(String svc, GovernanceRules rules, long expected) {
    return Command.newBuilder().setTimeMs(42).setPutRules(PutRules.newBuilder().setNamespace("default")
        .setService(svc).setRules(rules).setExpectedVersion(expected)).build();
  }

  static GovernanceRules lb(String policy) {
    return GovernanceRules.newBuilder().setLoadbalance(LoadBalanceRule.newBuilder().setPolicy(LoadBalanceRule.Policy.valueOf(policy.toUpperCase(java.util.Locale.ROOT)))).build();
  }

  GovernanceRules apply(Command c) {
    StateMachine.validate(c);
    GovernanceRules r = sm.apply(c).getRules();
    sm.flush();
    return r;
  }

  @Test
  void putsAreVersionedStampedAndPushedAsAServiceChange() {
    GovernanceRules r = apply(put("orders", lb("maglev"), 0));
    assertThat(r.getLoadbalance().getVersion()).isEqualTo(1);
    assertThat(r.getLoadbalance().getUpdatedAtMs()).isEqualTo(42);
    assertThat(changes).hasSize(1);
    assertThat(changes.get(0).infoChanged()).isTrue();
    assertThat(changes.get(0).view().info().getRules().getLoadbalance().getPolicy()).isEqualTo(LoadBalanceRule.Policy.MAGLEV);

    assertThat(apply(put("orders", lb("adaptive"), 1)).getLoadbalance().getVersion()).isEqualTo(2);
    long revision = sm.registry().revision();
    assertThatThrownBy(() -> sm.apply(put("orders", lb("round_robin"), 1)))
        .isInstanceOf(LodestarException.class).hasMessageContaining("expected 1, current 2");
    assertThat(sm.registry().revision()).isEqualTo(revision);
  }

  @Test
  void namespaceDefaultsFillMissingKindsAndRepublishEveryService() {
    apply(put("a", lb("maglev"), 0));
    apply(put("b", GovernanceRules.newBuilder().setRatelimit(RateLimitRules.newBuilder()
        .addRules(RateLimitRule.newBuilder().setName("x").setLimit(5))).build(), 0));
    changes.clear();
    apply(put("", lb("least_request"), 0));  // the namespace's default
    assertThat(changes).extracting(c -> c.key().service()).containsExactly("a", "b");
    assertThat(sm.registry().view("default", "a").info().getRules().getLoadbalance().getPolicy()).isEqualTo(LoadBalanceRule.Policy.MAGLEV);
    assertThat(sm.registry().view("default", "b").info().getRules().getLoadbalance().getPolicy())
        .isEqualTo(LoadBalanceRule.Policy.LEAST_REQUEST);
    assertThat(sm.registry().ownRules("default", "b").hasLoadbalance()).isFalse();
  }

  @Test
  void deleteRemovesOneKindAndRulesSurviveASnapshot() {
    apply(put("orders", lb("maglev"), 0));
    apply(put("", lb("ring_hash"), 0));
    StateMachine copy = new StateMachine();
    copy.restore(sm.snapshot(7));
    assertThat(copy.registry().view("default", "orders").info().getRules().getLoadbalance().getPolicy())
        .isEqualTo(LoadBalanceRule.Policy.MAGLEV);
    assertThat(copy.registry().namespace("default").getRules().getLoadbalance().getPolicy()).isEqualTo(LoadBalanceRule.Policy.RING_HASH);
    assertThat(copy.snapshot(7)).isEqualTo(sm.snapshot(7));

    apply(Command.newBuilder().setDeleteRules(DeleteRules.newBuilder().setNamespace("default").setService("orders")
        .setKind(io.lodestar.api.v1.RuleKind.LOADBALANCE)).build());
    assertThat(sm.registry().view("default", "orders").info().getRules().getLoadbalance().getPolicy())
        .isEqualTo(LoadBalanceRule.Policy.RING_HASH);  // the default shows through
    assertThatThrownBy(() -> sm.apply(Command.newBuilder().setDeleteRules(DeleteRules.newBuilder()
        .setNamespace("default").setService("orders").setKind(io.lodestar.api.v1.RuleKind.LOADBALANCE)).build()))
        .hasMessageContaining("no loadbalance rule");
  }

  @Test
  void anUnsignedValueOutOfRangeIsNamedAsSentNotNegative() {
    // uint32 fields are ints in Java: 4294967295 was reported as -1 (still refused, but a value never sent)
    GovernanceRules maxWait = GovernanceRules.newBuilder().setRatelimit(RateLimitRules.newBuilder()
        .addRules(RateLimitRule.newBuilder().setName("x").setLimit(5).setMaxWaitMs(-1))).build();
    assertThatThrownBy(() -> StateMachine.validate(put("orders", maxWait, 0)))
        .isInstanceOf(LodestarException.class).hasMessageContaining("got 4294967295").hasMessageNotContaining("-1");
    GovernanceRules limit = GovernanceRules.newBuilder().setRatelimit(RateLimitRules.newBuilder()
        .addRules(RateLimitRule.newBuilder().setName("x").setLimit(-1L))).build();
    assertThatThrownBy(() -> StateMachine.validate(put("orders", limit, 0)))
        .hasMessageContaining("got 18446744073709551615");
  }

  @Test
  void aPutCarriesExactlyOneKind() {
    assertThatThrownBy(() -> StateMachine.validate(put("orders", GovernanceRules.getDefaultInstance(), 0)))
        .hasMessageContaining("got none");
    assertThatThrownBy(() -> StateMachine.validate(put("orders", lb("maglev").toBuilder()
        .setRatelimit(RateLimitRules.getDefaultInstance()).build(), 0))).hasMessageContaining("exactly one kind");
  }
}
