package io.lodestar.server.fuzz;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Generators of hostile input shared by the fuzz properties: names, JSON values, byte mutations. */
final class Hostile {
  private Hostile() {}

  /** Names as an attacker writes them: path tricks, NULs, control characters, huge, non-ASCII, empty. */
  static Arbitrary<String> names() {
    return Arbitraries.oneOf(
        Arbitraries.of("ok", "a/b", "..", "../..", "%00", "a%2Fb", "a\u0000b", "\t", "\r\n", " ", "", "-lead",
            "名字", "\uD83D\uDE00", "a\u202Eb", "%", "%zz", "a?b", "a#b", "a;b", "\\", "CON", "..%2F..", "\uFFFF"),
        Arbitraries.strings().ofMinLength(0).ofMaxLength(40),
        Arbitraries.strings().withChars("ab./%\u0000\u0001\u007f:@").ofMaxLength(300),
        Arbitraries.strings().alpha().ofLength(129));
  }

  /** JSON values: scalars at their edges, deep nesting, big numbers and strings. */
  static Arbitrary<String> jsonValues() {
    Arbitrary<String> scalars = Arbitraries.oneOf(
        Arbitraries.of("null", "true", "false", "0", "-1", "1e308", "1e309", "-1e309", "99999999999999999999999999",
            "2147483648", "-2147483649", "9223372036854775808", "0.5", "NaN", "\"\"", "[]", "{}", "\"\\u0000\"",
            "\"\\ud800\"", "1.0e-400", "-0"),
        names().map(Hostile::quote),
        Arbitraries.integers().map(String::valueOf));
    Arbitrary<Integer> depth = Arbitraries.integers().between(1, 3000);
    Arbitrary<String> deep = Combinators.combine(depth, Arbitraries.of("[", "{\"a\":")).as((d, open) ->
        open.repeat(d) + "1" + (open.equals("[") ? "]" : "}").repeat(d));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, scalars),
        net.jqwik.api.Tuple.of(1, deep),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(100_000).map(Hostile::quote)));
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** A byte-level mutation of {@code bytes}: flip, set, insert, delete, truncate or splice garbage. */
  static byte[] mutate(byte[] bytes, long seed) {
    java.util.Random r = new java.util.Random(seed);
    byte[] b = bytes.clone();
    int n = 1 + r.nextInt(4);
    for (int k = 0; k < n && b.length > 0; k++) {
      int at = r.nextInt(b.length);
      switch (r.nextInt(6)) {
        case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
        case 1 -> b[at] = (byte) r.nextInt(256);
        case 2 -> b = java.util.Arrays.copyOf(b, at);
        case 3 -> {
          byte[] x = new byte[b.length + 1];
          System.arraycopy(b, 0, x, 0, at);
          x[at] = (byte) r.nextInt(256);
          System.arraycopy(b, at, x, at + 1, b.length - at);
          b = x;
        }
        case 4 -> {
          byte[] x = new byte[b.length - 1];
          System.arraycopy(b, 0, x, 0, at);
          System.arraycopy(b, at + 1, x, at, b.length - at - 1);
          b = x;
        }
        default -> {
          byte[] junk = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xED, (byte) 0xA0, (byte) 0x80};
          for (int j = 0; j < junk.length && at + j < b.length; j++) {
            b[at + j] = junk[j];
          }
        }
      }
    }
    return b;
  }
}
