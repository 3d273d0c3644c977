package io.lodestar.client.governance;

import io.lodestar.api.v1.LaneRule;
import io.lodestar.api.v1.LaneRules;
import io.lodestar.client.route.CallContext;
import io.lodestar.client.internal.route.CallMatcher;
import java.util.Map;

/**
 * The namespace's lane rules compiled for one caller (full-link gray release, docs/api.md#lane).
 * A call's lane is its {@code x-lodestar-lane} header, else the first lane whose match it meets,
 * else none (the baseline). Lanes are numbered {@code 0..count()-1}; {@link #baseline()} is
 * {@code count()}. With no lane rule there is one view, the baseline, holding every instance, so
 * services that do not use lanes route exactly as before.
 *
 * <p>Immutable; {@link #resolve} compares strings and runs the compiled matches: no allocation.
 */
final class Lanes {
  /** The header a request's lane travels in, on every hop. */
  static final String HEADER = "x-lodestar-lane";
  /** The instance metadata key that puts an instance in a lane. */
  static final String METADATA_KEY = "lane";
  static final Lanes NONE = new Lanes(new String[0], new CallMatcher[0], new boolean[0]);

  private final String[] names;
  private final CallMatcher[] matchers;
  private final boolean[] failClosed;

  private Lanes(String[] names, CallMatcher[] matchers, boolean[] failClosed) {
    this.names = names;
    this.matchers = matchers;
    this.failClosed = failClosed;
  }

  static Lanes compile(LaneRules rules, Map<String, String> caller) {
    int n = rules.getLanesCount();
    if (n == 0) {
      return NONE;
    }
    String[] names = new String[n];
    CallMatcher[] matchers = new CallMatcher[n];
    boolean[] fail = new boolean[n];
    for (int i = 0; i < n; i++) {
      LaneRule l = rules.getLanes(i);
      names[i] = l.getName();
      matchers[i] = l.hasMatch() ? CallMatcher.compile(l.getMatch(), caller) : null;
      fail[i] = l.getFallback() == LaneRule.Fallback.FAIL;
    }
    return new Lanes(names, matchers, fail);
  }

  int count() {
    return names.length;
  }

  int baseline() {
    return names.length;
  }

  String name(int lane) {
    return lane < names.length ? names[lane] : null;
  }

  boolean failClosed(int lane) {
    return lane < names.length && failClosed[lane];
  }

  /** The view an instance belongs to: its lane, the baseline (no lane key), or -1 (an undefined lane). */
  int of(Map<String, String> metadata) {
    String lane = metadata.get(METADATA_KEY);
    if (lane == null || names.length == 0) {
      return baseline();
    }
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(lane)) {
        return i;
      }
    }
    return -1;  // in a lane no rule defines: no call is routed to it
  }

  /** The lane of a call; {@link #baseline()} when it is in none (or in one no rule defines). */
  int resolve(CallContext call) {
    if (names.length == 0) {
      return 0;
    }
    String tagged = call.header(HEADER);
    if (tagged != null) {
      for (int i = 0; i < names.length; i++) {
        if (names[i].equals(tagged)) {
          return i;
        }
      }
      return baseline();
    }
    for (int i = 0; i < names.length; i++) {
      if (matchers[i] != null && matchers[i].test(call)) {
        return i;
      }
    }
    return baseline();
  }
}
