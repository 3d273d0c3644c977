package io.lodestar.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written name and host checks accept exactly what their regular expressions accept. */
class NameAlphabetTest {
  /** Each kind of character the patterns tell apart, once: letters, digits, separators, others. */
  private static final String ALPHABET = "aZ09._-:@/% é";

  /**
   * Every string of up to four characters, then random longer ones. The patterns decide by a
   * character, the one before it and whether it is first or last (labels, separators, a trailing
   * dot), so every such case is in the exhaustive part (30,941 strings); the random part adds
   * several labels in a row. It was 200,000 random strings with an assertion each (5-15 s).
   */
  @Test
  void namesAndHostNamesMatchTheirPatternsOnEveryShortStringAndRandomLongerOnes() {
    List<String> wrong = new ArrayList<>();
    for (int length = 0; length <= 4; length++) {
      int[] digits = new int[length];
      for (boolean more = true; more; ) {
        StringBuilder sb = new StringBuilder(length);
        for (int d : digits) {
          sb.append(ALPHABET.charAt(d));
        }
        check(sb.toString(), wrong);
        more = false;
        for (int i = length - 1; i >= 0 && !more; i--) {
          digits[i] = (digits[i] + 1) % ALPHABET.length();
          more = digits[i] != 0;
        }
      }
    }
    Random random = new Random(11);
    for (int n = 0; n < 20_000; n++) {
      StringBuilder sb = new StringBuilder();
      int length = 5 + random.nextInt(6);
      for (int i = 0; i < length; i++) {
        sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
      check(sb.toString(), wrong);
    }
    assertThat(wrong).isEmpty();
  }

  private static void check(String s, List<String> wrong) {
    if (Limits.isName(s) != Limits.NAME.matcher(s).matches()) {
      wrong.add("name '" + s + "'");
    }
    if (Limits.isHostName(s) != Limits.HOST_NAME.matcher(s).matches()) {
      wrong.add("host '" + s + "'");
    }
  }

  @Test
  void namesAndHostNamesMatchTheirPatternsOnChosenCases() {
    for (String s : List.of("", ".", "..", "a", "a.", "a..", ".a", "a.b", "a.b.", "a-", "-a", "a-b", "_", "a_b.c-d",
        "10.0.0.1", "svc-0001", "i-17", "a:b@c", "host.example.com.", "a.-b", "a.b-", "é", "A9")) {
      assertThat(Limits.isName(s)).as("name '%s'", s).isEqualTo(Limits.NAME.matcher(s).matches());
      assertThat(Limits.isHostName(s)).as("host '%s'", s).isEqualTo(Limits.HOST_NAME.matcher(s).matches());
    }
  }
}
