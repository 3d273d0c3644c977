package io.lodestar.core.naming;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpenSetTest {
  @Test
  void behavesAsAHashSetUnderRandomAddsAndRemoves() {
    for (int hashBits : new int[] {32, 3}) { // 3: few distinct hashes, long runs to shift back
      int mask = hashBits == 32 ? -1 : (1 << hashBits) - 1;
      OpenSet<String> set = new OpenSet<>(s -> s.hashCode() & mask, String::equals);
      Set<String> expected = new HashSet<>();
      Random random = new Random(42 + hashBits);
      for (int step = 0; step < 20_000; step++) {
        String e = "i-" + random.nextInt(500);
        if (random.nextInt(3) == 0) {
          assertThat(set.remove(e)).isEqualTo(expected.remove(e));
        } else {
          assertThat(set.put(e) == null).isEqualTo(expected.add(e));
        }
        if (step % 997 == 0) {
          assertThat(set.size()).isEqualTo(expected.size());
          assertThat(set.toList()).containsExactlyInAnyOrderElementsOf(expected);
          for (int k = 0; k < 500; k++) {
            assertThat(set.contains("i-" + k)).isEqualTo(expected.contains("i-" + k));
          }
        }
      }
      expected.forEach(e -> assertThat(set.remove(e)).isTrue());
      assertThat(set.isEmpty()).isTrue();
    }
  }

  @Test
  void putReplacesTheElementWithTheSameKey() {
    record Entry(String key, int value) {}
    OpenSet<Entry> set = new OpenSet<>(e -> e.key().hashCode(), (a, b) -> a.key().equals(b.key()));
    assertThat(set.put(new Entry("a", 1))).isNull();
    assertThat(set.put(new Entry("a", 2))).isEqualTo(new Entry("a", 1));
    assertThat(set.find("a".hashCode(), e -> e.key().equals("a"))).isEqualTo(new Entry("a", 2));
    assertThat(set.remove("a".hashCode(), e -> e.key().equals("a"))).isEqualTo(new Entry("a", 2));
    assertThat(set.find("a".hashCode(), e -> e.key().equals("a"))).isNull();
  }
}
