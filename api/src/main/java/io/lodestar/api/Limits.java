package io.lodestar.api;

import java.util.regex.Pattern;

/**
 * The input limits of the wire model, read by the server's validation (core {@code Validation})
 * and by the SDK's argument checks alike, so the two can never disagree: an SDK refuses at once,
 * in its caller's thread, exactly what the server would refuse.
 */
public final class Limits {
  /** Names of namespaces, services, instance ids, groups, client ids. */
  public static final int MAX_NAME_LENGTH = 128;
  /** Letters, digits and . _ - : @, starting with a letter or digit: safe in URLs, file names and metric labels. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]*");
  public static final String NAME_ALPHABET = "letters, digits, . _ - : @; starting with a letter or digit";
  public static final int MAX_HOST_LENGTH = 253;
  public static final int MAX_WEIGHT = 10_000;
  public static final int DEFAULT_WEIGHT = 100;
  public static final int MIN_TTL_SECONDS = 1;
  public static final int MAX_TTL_SECONDS = 3600;
  public static final int MAX_PROTOCOL_LENGTH = 32;
  public static final int MAX_METADATA_ENTRIES = 64;
  public static final int MAX_METADATA_KEY = 128;
  public static final int MAX_METADATA_VALUE = 1024;
  public static final int MAX_CHECK_INTERVAL_SECONDS = 3600;
  public static final int MAX_CHECK_TIMEOUT_SECONDS = 60;
  public static final int MAX_DESCRIPTION_LENGTH = 1024;

  // A DNS name (labels of letters, digits, - and _), or an IPv4 literal, which has the same alphabet.
  static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
      + "(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\\.?");
  private static final Pattern IPV4 = Pattern.compile(
      "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
  private static final Pattern HEX_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");
  private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private Limits() {}

  /**
   * Whether {@code value} matches {@link #NAME}: checked on every registration in the SDK and
   * twice on the server, so by hand instead of a regex matcher (objects per call, several times
   * slower); NameAlphabetTest holds the two equal.
   */
  public static boolean isName(String value) {
    int n = value.length();
    if (n == 0 || !isAsciiLetterOrDigit(value.charAt(0))) {
      return false;
    }
    for (int i = 1; i < n; i++) {
      char c = value.charAt(i);
      if (!isAsciiLetterOrDigit(c) && c != '.' && c != '_' && c != ':' && c != '@' && c != '-') {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code host} matches {@link #HOST_NAME}: dot-separated labels, as {@link #isName} by hand. */
  static boolean isHostName(String host) {
    int end = host.endsWith(".") ? host.length() - 1 : host.length();
    int start = 0;
    if (end == 0) {
      return false;
    }
    while (start <= end) {
      int dot = host.indexOf('.', start);
      int labelEnd = dot < 0 || dot > end ? end : dot;
      if (labelEnd == start || host.charAt(start) == '-' || host.charAt(labelEnd - 1) == '-') {
        return false; // an empty label, or one that starts or ends with a hyphen
      }
      for (int i = start; i < labelEnd; i++) {
        char c = host.charAt(i);
        if (!isAsciiLetterOrDigit(c) && c != '_' && c != '-') {
          return false;
        }
      }
      start = labelEnd + 1;
    }
    return true;
  }

  private static boolean isAsciiLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  /** A host name, an IPv4 address, or an IPv6 address (bare or in brackets, optionally with a %zone). */
  public static boolean isHost(String host) {
    if (host == null || host.isEmpty() || host.length() > MAX_HOST_LENGTH) {
      return false;
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      return isIpv6(host.substring(1, host.length() - 1));
    }
    return host.indexOf(':') >= 0 ? isIpv6(host) : isHostName(host);
  }

  /** An IPv4 or IPv6 literal (as a client address is written), no host names. */
  public static boolean isIpAddress(String address) {
    return address != null && (IPV4.matcher(address).matches() || isIpv6(address));
  }

  /** An IPv6 literal such as {@code ::1}, {@code fe80::1%eth0} or {@code ::ffff:10.0.0.1}. */
  public static boolean isIpv6(String address) {
    if (address == null) {
      return false;
    }
    String a = address;
    int pct = a.indexOf('%');
    if (pct >= 0) {
      if (!ZONE.matcher(a.substring(pct + 1)).matches()) {
        return false;
      }
      a = a.substring(0, pct);
    }
    int groups = 0;
    int lastColon = a.lastIndexOf(':');
    if (lastColon < 0) {
      return false;
    }
    String tail = a.substring(lastColon + 1);
    if (tail.indexOf('.') >= 0) { // an embedded IPv4 address counts as two groups
      if (!IPV4.matcher(tail).matches()) {
        return false;
      }
      a = a.substring(0, lastColon + 1) + "0:0";
    }
    int gap = a.indexOf("::");
    if (gap >= 0 && a.indexOf("::", gap + 1) >= 0) {
      return false; // at most one ::
    }
    String[] halves = gap >= 0 ? new String[] {a.substring(0, gap), a.substring(gap + 2)} : new String[] {a};
    for (String half : halves) {
      if (half.isEmpty()) {
        continue;
      }
      for (String g : half.split(":", -1)) {
        if (!HEX_GROUP.matcher(g).matches()) {
          return false;
        }
        groups++;
      }
    }
    return gap >= 0 ? groups <= 7 : groups == 8;
  }
}
