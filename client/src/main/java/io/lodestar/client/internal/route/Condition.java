package io.lodestar.client.internal.route;

import io.lodestar.api.v1.MatchValue;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One compiled value condition: exact, regex (whole value), in, not in. Testing allocates nothing:
 * a regex keeps one {@link Matcher} per thread and resets it.
 */
abstract class Condition {
  abstract boolean test(String value);

  static Condition compile(MatchValue v) {
    if (!v.getRegex().isEmpty()) {
      return new Regex(Pattern.compile(v.getRegex()));
    }
    if (v.getInCount() > 0) {
      return new In(v.getInList(), true);
    }
    if (v.getNotInCount() > 0) {
      return new In(v.getNotInList(), false);
    }
    return new Exact(v.getExact());
  }

  private static final class Exact extends Condition {
    private final String expected;

    Exact(String expected) {
      this.expected = expected;
    }

    @Override
    boolean test(String value) {
      return expected.equals(value);
    }
  }

  private static final class In extends Condition {
    private final String[] values;
    private final boolean in;

    In(List<String> values, boolean in) {
      this.values = values.toArray(new String[0]);
      this.in = in;
    }

    @Override
    boolean test(String value) {
      if (value == null) {
        return !in;  // a missing key is "not in" anything
      }
      for (String v : values) {
        if (v.equals(value)) {
          return in;
        }
      }
      return !in;
    }
  }

  private static final class Regex extends Condition {
    private final ThreadLocal<Matcher> matcher;

    Regex(Pattern p) {
      this.matcher = ThreadLocal.withInitial(() -> p.matcher(""));
    }

    @Override
    boolean test(String value) {
      return value != null && matcher.get().reset(value).matches();
    }
  }
}
