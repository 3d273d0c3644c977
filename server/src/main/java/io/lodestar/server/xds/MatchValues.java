package io.lodestar.server.xds;

import io.lodestar.api.v1.MatchValue;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Evaluates a rule's conditions on values the control plane already knows: caller labels (the
 * node's) and call labels (which a mesh call does not carry, so every key is missing). Same
 * semantics as the SDK: regex matches the whole value, a missing key matches only not_in.
 */
final class MatchValues {
  private MatchValues() {}

  static boolean all(Map<String, MatchValue> conditions, Map<String, String> values) {
    for (Map.Entry<String, MatchValue> e : conditions.entrySet()) {
      if (!test(e.getValue(), values.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  static boolean test(MatchValue v, String value) {
    if (!v.getRegex().isEmpty()) {
      return value != null && Pattern.compile(v.getRegex()).matcher(value).matches();
    }
    if (v.getInCount() > 0) {
      return value != null && v.getInList().contains(value);
    }
    if (v.getNotInCount() > 0) {
      return value == null || !v.getNotInList().contains(value);
    }
    return v.getExact().equals(value);
  }
}
