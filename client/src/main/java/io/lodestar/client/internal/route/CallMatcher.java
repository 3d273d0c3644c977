package io.lodestar.client.internal.route;

import io.lodestar.api.v1.Match;
import io.lodestar.api.v1.MatchValue;
import io.lodestar.client.route.CallContext;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A compiled {@link Match}. Conditions on the caller's labels are settled once, at compile time
 * (the caller does not change), so a call tests only its own labels, headers and method.
 */
public final class CallMatcher {
  private static final CallMatcher NEVER = new CallMatcher(false, new String[0], new Condition[0], new String[0],
      new Condition[0], null);

  private final boolean callerMatches;
  private final String[] labelKeys;
  private final Condition[] labelConditions;
  private final String[] headerKeys;
  private final Condition[] headerConditions;
  private final Condition method;

  private CallMatcher(boolean callerMatches, String[] labelKeys, Condition[] labelConditions, String[] headerKeys,
      Condition[] headerConditions, Condition method) {
    this.callerMatches = callerMatches;
    this.labelKeys = labelKeys;
    this.labelConditions = labelConditions;
    this.headerKeys = headerKeys;
    this.headerConditions = headerConditions;
    this.method = method;
  }

  /** Compiles a match for one caller (the labels of the SDK that will test calls against it). */
  public static CallMatcher compile(Match m, Map<String, String> callerLabels) {
    boolean caller = true;
    for (Map.Entry<String, MatchValue> e : new TreeMap<>(m.getCallerMap()).entrySet()) {
      caller &= Condition.compile(e.getValue()).test(callerLabels.get(e.getKey()));
    }
    if (!caller) {
      return NEVER;
    }
    TreeMap<String, MatchValue> labels = new TreeMap<>(m.getLabelsMap());
    TreeMap<String, MatchValue> headers = new TreeMap<>();
    m.getHeadersMap().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
    return new CallMatcher(true, labels.keySet().toArray(new String[0]),
        labels.values().stream().map(Condition::compile).toArray(Condition[]::new),
        headers.keySet().toArray(new String[0]),
        headers.values().stream().map(Condition::compile).toArray(Condition[]::new),
        m.hasMethod() ? Condition.compile(m.getMethod()) : null);
  }

  public boolean test(CallContext c) {
    if (!callerMatches) {
      return false;
    }
    if (method != null && !method.test(c.method())) {
      return false;
    }
    for (int i = 0; i < labelKeys.length; i++) {
      if (!labelConditions[i].test(c.label(labelKeys[i]))) {
        return false;
      }
    }
    for (int i = 0; i < headerKeys.length; i++) {
      if (!headerConditions[i].test(c.header(headerKeys[i]))) {
        return false;
      }
    }
    return true;
  }
}
