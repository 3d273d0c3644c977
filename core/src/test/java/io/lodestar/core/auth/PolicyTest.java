package io.lodestar.core.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lodestar.core.LodestarException;
import io.lodestar.core.auth.Policy.Action;
import org.junit.jupiter.api.Test;

class PolicyTest {
  @Test
  void grantsAndPatterns() {
    Policy write = Policy.parse("write:team-*");
    assertThat(write.allows(Action.WRITE, "team-a")).isTrue();
    assertThat(write.allows(Action.READ, "team-a")).isTrue();
    assertThat(write.allows(Action.SECRETS, "team-a")).isFalse();
    assertThat(write.allows(Action.WRITE, "prod")).isFalse();
    assertThat(write.allows(Action.ADMIN, "")).isFalse();

    assertThat(Policy.parse("read:*").allows(Action.READ, "anything")).isTrue();
    assertThat(Policy.parse("read:*").allows(Action.WRITE, "anything")).isFalse();
    assertThat(Policy.parse("read:*-prod").allows(Action.READ, "eu-prod")).isTrue();
    assertThat(Policy.parse("read:*-prod").allows(Action.READ, "eu-prod2")).isFalse();
    assertThat(Policy.parse("secrets:db").allows(Action.SECRETS, "db")).isTrue();
    assertThat(Policy.parse("admin").allows(Action.ADMIN, "")).isTrue();
    // a pattern's dot is a dot, not any character
    assertThat(Policy.parse("read:a.b").allows(Action.READ, "axb")).isFalse();
    // a grant on one namespace does not cover "every namespace" (console lists)
    assertThat(Policy.parse("read:default").allows(Action.READ, "*")).isFalse();
  }

  @Test
  void malformedPoliciesNameTheField() {
    for (String bad : new String[] {"", "delete:x", "read:", "read:a b", "read:a/b", "admin:x", "read"}) {
      assertThatThrownBy(() -> Policy.parse(bad)).as(bad).isInstanceOf(LodestarException.class)
          .satisfies(e -> assertThat(((LodestarException) e).field()).isEqualTo("policies"));
    }
  }
}
