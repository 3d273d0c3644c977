package io.lodestar.server.http;

import io.lodestar.core.LodestarException;
import java.util.Optional;

/** Query parameters of the REST API: a value that does not parse is refused naming its parameter. */
public final class QueryParams {
  private QueryParams() {}

  /** {@code true}/{@code 1}/empty or {@code false}/{@code 0}; absent: {@code dflt}. */
  public static boolean bool(String field, Optional<String> v, boolean dflt) {
    return v.map(x -> switch (x) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default -> throw LodestarException.invalid(field, field + " must be true or false, got '" + x + "'");
    }).orElse(dflt);
  }

  /** A non-negative integer; absent: {@code dflt}. */
  public static long number(String field, Optional<String> v, long dflt) {
    return v.isEmpty() ? dflt : number(field, v.get());
  }

  public static long number(String field, String v) {
    try {
      long n = Long.parseLong(v);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw LodestarException.invalid(field, field + " must be a non-negative integer");
  }
}
