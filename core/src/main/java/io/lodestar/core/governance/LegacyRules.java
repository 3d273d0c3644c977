package io.lodestar.core.governance;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.UnknownFieldSet;
import io.lodestar.api.WireEnums;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LaneRule;
import io.lodestar.api.v1.LaneRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.RateLimitRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeleteRules;
import io.lodestar.api.v1.state.PutRules;
import java.util.function.IntConsumer;

/**
 * Reads rules written before their enumerations were proto enums. The policy, the rate limit's
 * algorithm, action, scope and fail mode, the route's and each lane's fallback, and DeleteRules'
 * kind were strings (the REST spelling)
 * under field numbers that are now reserved; a command logged or a snapshot taken by that version
 * still carries them, and protobuf keeps a reserved field's bytes as an unknown field. Each such
 * string is moved into its enum field here, when the command is applied or the snapshot restored,
 * so replay gives the state the old version had, and nothing past this point sees the old form.
 * A string that names no value (the old code refused those before logging) leaves the default.
 */
public final class LegacyRules {
  static final int LB_POLICY = 3;
  static final int RL_ALGORITHM = 5;
  static final int RL_ACTION = 7;
  static final int RL_SCOPE = 9;
  static final int RL_FAIL_MODE = 10;
  static final int DELETE_KIND = 3;
  static final int ROUTE_FALLBACK = 5;
  static final int LANE_FALLBACK = 3;

  private LegacyRules() {}

  /** {@code cmd} with its rules in today's form; the same object when there is nothing to upgrade. */
  public static Command upgrade(Command cmd) {
    if (cmd.hasPutRules()) {
      PutRules p = cmd.getPutRules();
      GovernanceRules r = upgrade(p.getRules());
      return r == p.getRules() ? cmd : cmd.toBuilder().setPutRules(p.toBuilder().setRules(r)).build();
    }
    if (cmd.hasDeleteRules()) {
      DeleteRules d = cmd.getDeleteRules();
      String kind = string(d.getUnknownFields(), DELETE_KIND);
      if (kind == null) {
        return cmd;
      }
      DeleteRules.Builder b = d.toBuilder().setUnknownFields(without(d.getUnknownFields(), DELETE_KIND));
      set(io.lodestar.api.v1.RuleKind.getDescriptor(), kind, b::setKindValue);
      return cmd.toBuilder().setDeleteRules(b).build();
    }
    return cmd;
  }

  public static Namespace upgrade(Namespace ns) {
    GovernanceRules r = upgrade(ns.getRules());
    return r == ns.getRules() ? ns : ns.toBuilder().setRules(r).build();
  }

  public static ServiceInfo upgrade(ServiceInfo info) {
    GovernanceRules r = upgrade(info.getRules());
    return r == info.getRules() ? info : info.toBuilder().setRules(r).build();
  }

  static GovernanceRules upgrade(GovernanceRules rules) {
    GovernanceRules out = rules;
    if (rules.hasLoadbalance()) {
      LoadBalanceRule lb = rules.getLoadbalance();
      String policy = string(lb.getUnknownFields(), LB_POLICY);
      if (policy != null) {
        LoadBalanceRule.Builder b = lb.toBuilder().setUnknownFields(without(lb.getUnknownFields(), LB_POLICY));
        set(LoadBalanceRule.Policy.getDescriptor(), policy, b::setPolicyValue);
        out = out.toBuilder().setLoadbalance(b).build();
      }
    }
    if (rules.hasRoute()) {
      RouteRules route = rules.getRoute();
      String fallback = string(route.getUnknownFields(), ROUTE_FALLBACK);
      if (fallback != null) {
        RouteRules.Builder b = route.toBuilder().setUnknownFields(without(route.getUnknownFields(), ROUTE_FALLBACK));
        set(RouteRules.Fallback.getDescriptor(), fallback, b::setFallbackValue);
        out = out.toBuilder().setRoute(b).build();
      }
    }
    if (rules.hasLane()) {
      LaneRules lanes = rules.getLane();
      LaneRules.Builder b = null;
      for (int i = 0; i < lanes.getLanesCount(); i++) {
        LaneRule lane = lanes.getLanes(i);
        String fallback = string(lane.getUnknownFields(), LANE_FALLBACK);
        if (fallback != null) {
          LaneRule.Builder up = lane.toBuilder().setUnknownFields(without(lane.getUnknownFields(), LANE_FALLBACK));
          set(LaneRule.Fallback.getDescriptor(), fallback, up::setFallbackValue);
          b = b == null ? lanes.toBuilder() : b;
          b.setLanes(i, up);
        }
      }
      if (b != null) {
        out = out.toBuilder().setLane(b).build();
      }
    }
    if (rules.hasRatelimit()) {
      RateLimitRules rl = rules.getRatelimit();
      RateLimitRules.Builder b = null;
      for (int i = 0; i < rl.getRulesCount(); i++) {
        RateLimitRule r = rl.getRules(i);
        RateLimitRule up = upgrade(r);
        if (up != r) {
          b = b == null ? rl.toBuilder() : b;
          b.setRules(i, up);
        }
      }
      if (b != null) {
        out = out.toBuilder().setRatelimit(b).build();
      }
    }
    return out;
  }

  private static RateLimitRule upgrade(RateLimitRule r) {
    UnknownFieldSet u = r.getUnknownFields();
    if (u.asMap().isEmpty()) {
      return r;
    }
    RateLimitRule.Builder b = r.toBuilder();
    UnknownFieldSet rest = u;
    boolean changed = false;
    changed |= move(u, RL_ALGORITHM, RateLimitRule.Algorithm.getDescriptor(), b::setAlgorithmValue);
    changed |= move(u, RL_ACTION, RateLimitRule.Action.getDescriptor(), b::setActionValue);
    changed |= move(u, RL_SCOPE, RateLimitRule.Scope.getDescriptor(), b::setScopeValue);
    changed |= move(u, RL_FAIL_MODE, RateLimitRule.FailMode.getDescriptor(), b::setFailModeValue);
    if (!changed) {
      return r;
    }
    for (int f : new int[] {RL_ALGORITHM, RL_ACTION, RL_SCOPE, RL_FAIL_MODE}) {
      rest = without(rest, f);
    }
    return b.setUnknownFields(rest).build();
  }

  private static boolean move(UnknownFieldSet u, int field, EnumDescriptor type, IntConsumer setter) {
    String old = string(u, field);
    if (old == null) {
      return false;
    }
    set(type, old, setter);
    return true;
  }

  private static void set(EnumDescriptor type, String old, IntConsumer setter) {
    EnumValueDescriptor v = WireEnums.value(type, old);
    if (v != null) {
      setter.accept(v.getNumber());
    }
  }

  /** The string an old writer put under {@code field} (length-delimited, UTF-8), or null if none. */
  private static String string(UnknownFieldSet u, int field) {
    UnknownFieldSet.Field f = u.getField(field);
    if (f.getLengthDelimitedList().isEmpty()) {
      return null;
    }
    // proto3: the last occurrence of a singular field wins
    ByteString last = f.getLengthDelimitedList().get(f.getLengthDelimitedList().size() - 1);
    return last.toStringUtf8();
  }

  private static UnknownFieldSet without(UnknownFieldSet u, int field) {
    return UnknownFieldSet.newBuilder(u).clearField(field).build();
  }
}
