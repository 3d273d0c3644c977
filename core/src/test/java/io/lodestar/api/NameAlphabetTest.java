package io.lodestar.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written name and host checks accept exactly what their regular expressions accept. */
class NameAlphabetTest {
  private static final String ALPHABET = "aZ09._-:@/% é.-_";

  @Test
  void namesAndHostNamesMatchTheirPatternsOnRandomStrings() {
    Random random = new Random(11);
    for (int n = 0; n < 200_000; n++) {
      StringBuilder sb = new StringBuilder();
      int length = random.nextInt(8);
      for (int i = 0; i < length; i++) {
        sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
      String s = sb.toString();
      assertThat(Limits.isName(s)).as("name '%s'", s).isEqualTo(Limits.NAME.matcher(s).matches());
      assertThat(Limits.isHostName(s)).as("host '%s'", s).isEqualTo(Limits.HOST_NAME.matcher(s).matches());
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
