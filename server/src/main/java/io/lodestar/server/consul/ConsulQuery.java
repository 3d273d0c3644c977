package io.lodestar.server.consul;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Consul's query parameters as its clients send them: bare flags ({@code ?recurse}), empty values
 * ({@code stale=}), {@code passing=false} meaning "not filtered", {@code wait} as {@code 20s} or
 * {@code 120000ms}, and {@code ns} naming the namespace (absent: {@code default}).
 */
final class ConsulQuery {
  static final Duration DEFAULT_WAIT = Duration.ofMinutes(5);
  static final Duration MAX_WAIT = Duration.ofMinutes(10);

  private ConsulQuery() {}

  /** A flag: present bare, empty or with any value but {@code false}/{@code 0} means set. */
  static boolean flag(ServiceRequestContext ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null) {
      return false;
    }
    return !(v.equalsIgnoreCase("false") || v.equals("0"));
  }

  /**
   * A query parameter Consul reads as a bool (Go's strconv.ParseBool; present and empty is true),
   * such as {@code passing}: {@code passing=maybe} is refused, not read as true.
   */
  static boolean bool(ServiceRequestContext ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null) {
      return false;
    }
    return switch (v) {
      case "", "1", "t", "T", "true", "TRUE", "True" -> true;
      case "0", "f", "F", "false", "FALSE", "False" -> false;
      default -> throw LodestarException.invalid(name, "Invalid value for ?" + name + ": " + v);
    };
  }

  static String namespace(ServiceRequestContext ctx) {
    String ns = ctx.queryParam("ns");
    return ns == null || ns.isEmpty() ? Registry.DEFAULT_NAMESPACE : Validation.name("ns", ns);
  }

  /** The {@code index} of a blocking query, or -1 when the query does not block. */
  static long index(ServiceRequestContext ctx) {
    String v = ctx.queryParam("index");
    if (v == null || v.isEmpty()) {
      return -1;
    }
    try {
      long i = Long.parseUnsignedLong(v);
      return i < 0 ? Long.MAX_VALUE : i;
    } catch (NumberFormatException e) {
      throw LodestarException.invalid("index", "Invalid index: " + v);
    }
  }

  /** The {@code wait} of a blocking query, capped at 10 minutes, plus Consul's jitter of up to wait/16. */
  static Duration waitWithJitter(ServiceRequestContext ctx) {
    Duration w = parseWait(ctx.queryParam("wait"));
    long jitter = w.toMillis() / 16;
    return jitter <= 0 ? w : w.plusMillis(ThreadLocalRandom.current().nextLong(jitter + 1));
  }

  static Duration parseWait(String v) {
    if (v == null || v.isEmpty()) {
      return DEFAULT_WAIT;
    }
    Duration d = duration("wait", v);
    return d.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : d;
  }

  /** A Go-style duration as Consul takes them: {@code 500ms}, {@code 10s}, {@code 1m}, {@code 1h}, {@code 1m30s}. */
  static Duration duration(String field, String v) {
    String s = v.trim();
    if (s.isEmpty()) {
      throw LodestarException.invalid(field, "Invalid " + field + ": empty duration");
    }
    if (s.chars().allMatch(Character::isDigit)) {
      // a bare number: Consul reads nanoseconds for JSON numbers, but clients send seconds in queries
      return Duration.ofSeconds(Long.parseLong(s));
    }
    long nanos = 0;
    int i = 0;
    try {
      while (i < s.length()) {
        int start = i;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
          i++;
        }
        if (start == i) {
          throw new NumberFormatException();
        }
        double n = Double.parseDouble(s.substring(start, i));
        int u = i;
        while (i < s.length() && Character.isLetter(s.charAt(i))) {
          i++;
        }
        String unit = s.substring(u, i);
        double mult = switch (unit) {
          case "ns" -> 1;
          case "us", "µs" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          case "m" -> 60e9;
          case "h" -> 3600e9;
          default -> throw new NumberFormatException();
        };
        nanos += (long) (n * mult);
      }
    } catch (NumberFormatException e) {
      throw LodestarException.invalid(field, "Invalid " + field + ": \"" + v + "\" is not a duration like 10s or 500ms");
    }
    return Duration.ofNanos(nanos);
  }
}
