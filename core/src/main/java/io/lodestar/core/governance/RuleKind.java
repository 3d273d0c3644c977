package io.lodestar.core.governance;

import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.core.LodestarException;
import io.lodestar.api.WireEnums;

/**
 * The kinds of governance rule, and the one place that knows which field of
 * {@link GovernanceRules} holds each, its version, and how a service's rules fall back to its
 * namespace's defaults (kind by kind: a kind the service sets replaces the default whole).
 */
public enum RuleKind {
  LOADBALANCE, ROUTE, CIRCUITBREAKER, RATELIMIT,
  /** Full-link gray lanes: namespace scope only ({@link #namespaceOnly}). */
  LANE;

  /** Kinds that only a namespace sets: they describe the whole call chain, not one service. */
  public boolean namespaceOnly() {
    return this == LANE;
  }

  /** This kind on the wire (DeleteRules.kind); the constants are named as the proto enum's values. */
  public io.lodestar.api.v1.RuleKind wire() {
    return io.lodestar.api.v1.RuleKind.valueOf(name());
  }

  /** The REST spelling (the path segment /rules/{kind}), derived from the proto enum. */
  public String wireName() {
    return WireEnums.name(wire().getValueDescriptor());
  }

  /** The kind of a command; refuses the unspecified value and numbers unknown to this version. */
  public static RuleKind of(String field, io.lodestar.api.v1.RuleKind kind) {
    if (kind == io.lodestar.api.v1.RuleKind.RULE_KIND_UNSPECIFIED || kind == io.lodestar.api.v1.RuleKind.UNRECOGNIZED) {
      throw LodestarException.invalid(field, WireEnums.notOneOf(field, io.lodestar.api.v1.RuleKind.getDescriptor(),
          kind == io.lodestar.api.v1.RuleKind.UNRECOGNIZED ? "unrecognized" : ""));
    }
    return valueOf(kind.name());
  }

  /** The kind a REST path names. */
  public static RuleKind parse(String field, String name) {
    var v = WireEnums.value(io.lodestar.api.v1.RuleKind.getDescriptor(), name);
    if (v == null || v.getNumber() == 0) {
      throw LodestarException.invalid(field, WireEnums.notOneOf(field, io.lodestar.api.v1.RuleKind.getDescriptor(), name));
    }
    return valueOf(v.getName());
  }

  public boolean isSet(GovernanceRules r) {
    return switch (this) {
      case LOADBALANCE -> r.hasLoadbalance();
      case ROUTE -> r.hasRoute();
      case CIRCUITBREAKER -> r.hasCircuitbreaker();
      case RATELIMIT -> r.hasRatelimit();
      case LANE -> r.hasLane();
    };
  }

  public long version(GovernanceRules r) {
    return switch (this) {
      case LOADBALANCE -> r.getLoadbalance().getVersion();
      case ROUTE -> r.getRoute().getVersion();
      case CIRCUITBREAKER -> r.getCircuitbreaker().getVersion();
      case RATELIMIT -> r.getRatelimit().getVersion();
      case LANE -> r.getLane().getVersion();
    };
  }

  /** {@code into} with this kind taken from {@code from} (cleared when {@code from} lacks it). */
  public GovernanceRules copy(GovernanceRules from, GovernanceRules into) {
    GovernanceRules.Builder b = into.toBuilder();
    switch (this) {
      case LOADBALANCE -> {
        if (from.hasLoadbalance()) b.setLoadbalance(from.getLoadbalance()); else b.clearLoadbalance();
      }
      case ROUTE -> {
        if (from.hasRoute()) b.setRoute(from.getRoute()); else b.clearRoute();
      }
      case CIRCUITBREAKER -> {
        if (from.hasCircuitbreaker()) b.setCircuitbreaker(from.getCircuitbreaker()); else b.clearCircuitbreaker();
      }
      case RATELIMIT -> {
        if (from.hasRatelimit()) b.setRatelimit(from.getRatelimit()); else b.clearRatelimit();
      }
      case LANE -> {
        if (from.hasLane()) b.setLane(from.getLane()); else b.clearLane();
      }
    }
    return b.build();
  }

  /** This kind of {@code r}, stamped with a version and time (the server owns both). */
  public GovernanceRules stamp(GovernanceRules r, long version, long nowMs) {
    GovernanceRules.Builder b = r.toBuilder();
    switch (this) {
      case LOADBALANCE -> b.setLoadbalance(r.getLoadbalance().toBuilder().setVersion(version).setUpdatedAtMs(nowMs));
      case ROUTE -> b.setRoute(r.getRoute().toBuilder().setVersion(version).setUpdatedAtMs(nowMs));
      case CIRCUITBREAKER -> b.setCircuitbreaker(r.getCircuitbreaker().toBuilder().setVersion(version)
          .setUpdatedAtMs(nowMs));
      case RATELIMIT -> b.setRatelimit(r.getRatelimit().toBuilder().setVersion(version).setUpdatedAtMs(nowMs));
      case LANE -> b.setLane(r.getLane().toBuilder().setVersion(version).setUpdatedAtMs(nowMs));
    }
    return b.build();
  }

  /** The one kind set in {@code r}; refuses none or several. */
  public static RuleKind only(GovernanceRules r) {
    RuleKind found = null;
    for (RuleKind k : values()) {
      if (k.isSet(r)) {
        if (found != null) {
          throw LodestarException.invalid("rules", "a put carries exactly one kind of rule; got " + found.wireName()
              + " and " + k.wireName());
        }
        found = k;
      }
    }
    if (found == null) {
      throw LodestarException.invalid("rules", "a put carries exactly one kind of rule; got none");
    }
    return found;
  }

  /** The effective rules: each kind the service's own, else the namespace's default. */
  public static GovernanceRules effective(GovernanceRules own, GovernanceRules defaults) {
    if (defaults.equals(GovernanceRules.getDefaultInstance())) {
      return own;
    }
    GovernanceRules out = own;
    for (RuleKind k : values()) {
      if (!k.isSet(own) && k.isSet(defaults)) {
        out = k.copy(defaults, out);
      }
    }
    return out;
  }
}
