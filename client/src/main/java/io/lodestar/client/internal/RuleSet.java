package io.lodestar.client.internal;

import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.client.lb.LbPolicy;
import io.lodestar.client.governance.Rules;
import java.util.Objects;

/**
 * The {@link Rules} of a snapshot, holding their wire form for the rule compilers.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public record RuleSet(GovernanceRules proto) implements Rules {
  public static final RuleSet EMPTY = new RuleSet(GovernanceRules.getDefaultInstance());

  public RuleSet {
    Objects.requireNonNull(proto, "proto");
  }

  public static RuleSet of(GovernanceRules proto) {
    return proto.equals(GovernanceRules.getDefaultInstance()) ? EMPTY : new RuleSet(proto);
  }

  /** The wire form of rules the SDK made (every {@link Rules} it hands out is a RuleSet). */
  public static GovernanceRules proto(Rules rules) {
    return ((RuleSet) rules).proto;
  }

  @Override
  public LbPolicy loadBalancePolicy() {
    LoadBalanceRule.Policy p = proto.getLoadbalance().getPolicy();
    return p == LoadBalanceRule.Policy.POLICY_UNSPECIFIED ? null : RuleConfigs.lbPolicy(p);
  }

  @Override
  public boolean hasRoute() {
    return proto.hasRoute();
  }

  @Override
  public boolean hasCircuitBreaker() {
    return proto.hasCircuitbreaker();
  }

  @Override
  public boolean hasRateLimit() {
    return proto.hasRatelimit();
  }

  @Override
  public boolean hasLanes() {
    return proto.hasLane();
  }
}
