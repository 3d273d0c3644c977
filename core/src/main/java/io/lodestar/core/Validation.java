package io.lodestar.core;

import io.lodestar.api.Limits;
import java.util.Map;

/** Input checks shared by every endpoint. Each failure names the field. */
public final class Validation {
  // The limits themselves live in api/ (Limits), where the SDK reads the same ones.
  public static final int MAX_NAME_LENGTH = Limits.MAX_NAME_LENGTH;
  public static final int MAX_METADATA_ENTRIES = Limits.MAX_METADATA_ENTRIES;
  public static final int MAX_METADATA_KEY = Limits.MAX_METADATA_KEY;
  public static final int MAX_METADATA_VALUE = Limits.MAX_METADATA_VALUE;
  public static final int MAX_HOST_LENGTH = Limits.MAX_HOST_LENGTH;
  public static final int MAX_WEIGHT = Limits.MAX_WEIGHT;
  // Consul compatibility only (the SDK has no tags or check ids)
  public static final int MAX_TAGS = 64;
  public static final int MAX_TAG_LENGTH = 256;
  public static final int MAX_CHECK_ID = 256;
  public static final int MAX_REMOVE_AFTER_SECONDS = 7 * 24 * 3600;

  private Validation() {}

  public static String name(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw LodestarException.invalid(field, field + " is required");
    }
    if (value.length() > MAX_NAME_LENGTH) {
      throw LodestarException.invalid(field, field + " is longer than " + MAX_NAME_LENGTH + " characters");
    }
    if (!Limits.isName(value)) {
      throw LodestarException.invalid(field,
          field + " '" + value + "' has illegal characters (allowed: " + Limits.NAME_ALPHABET + ")");
    }
    return value;
  }

  public static String host(String value) {
    if (value == null || value.isBlank()) {
      throw LodestarException.invalid("host", "host is required");
    }
    if (value.length() > MAX_HOST_LENGTH) {
      throw LodestarException.invalid("host", "host is longer than " + MAX_HOST_LENGTH + " characters");
    }
    if (!Limits.isHost(value)) {
      throw LodestarException.invalid("host", "host '" + value + "' is not a host name or IP address");
    }
    return value;
  }

  /** An IP literal (a client address as the server sees it), no host names. */
  public static String ipAddress(String field, String value) {
    if (!Limits.isIpAddress(value)) {
      throw LodestarException.invalid(field, value.length() > 64 ? field + " is not an IP address"
          : field + " has '" + value + "', which is not an IP address");
    }
    return value;
  }

  public static int ttlSeconds(long value) {
    if (value < Limits.MIN_TTL_SECONDS || value > Limits.MAX_TTL_SECONDS) {
      throw LodestarException.invalid("ttlSeconds", "ttlSeconds must be within " + Limits.MIN_TTL_SECONDS + "–"
          + Limits.MAX_TTL_SECONDS + ", got " + value);
    }
    return (int) value;
  }

  public static int port(long value) {
    if (value < 1 || value > 65535) {
      throw LodestarException.invalid("port", "port must be within 1–65535, got " + value);
    }
    return (int) value;
  }

  public static int weight(long value) {
    if (value < 0 || value > MAX_WEIGHT) {
      throw LodestarException.invalid("weight", "weight must be within 0–" + MAX_WEIGHT + ", got " + value);
    }
    return (int) value;
  }

  public static void metadata(String field, Map<String, String> metadata) {
    if (metadata.size() > MAX_METADATA_ENTRIES) {
      throw LodestarException.invalid(field, field + " has more than " + MAX_METADATA_ENTRIES + " entries");
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String k = e.getKey();
      if (k.isEmpty() || k.length() > MAX_METADATA_KEY) {
        throw LodestarException.invalid(field, field + " keys must have 1–" + MAX_METADATA_KEY + " characters");
      }
      if (e.getValue() == null || e.getValue().length() > MAX_METADATA_VALUE) {
        throw LodestarException.invalid(field + "." + k, "metadata values must have at most " + MAX_METADATA_VALUE + " characters");
      }
    }
  }

  public static void tags(String field, java.util.List<String> tags) {
    if (tags.size() > MAX_TAGS) {
      throw LodestarException.invalid(field, field + " has more than " + MAX_TAGS + " entries");
    }
    for (String t : tags) {
      if (t.isEmpty() || t.length() > MAX_TAG_LENGTH) {
        throw LodestarException.invalid(field, field + " entries must have 1–" + MAX_TAG_LENGTH + " characters");
      }
    }
  }

  /**
   * A URL a health prober will request ({@code url}; {@code given} is what the client sent, a whole
   * URL or a path): one that does not parse would never be probed healthy.
   */
  public static void probeUrl(String field, String given, String url) {
    if (given.length() > 2048) {
      throw LodestarException.invalid(field, field + " is longer than 2048 characters");
    }
    try {
      new java.net.URI(url);
    } catch (java.net.URISyntaxException e) {
      throw LodestarException.invalid(field, field + " is not a valid URL: " + e.getReason()
          + " (encode spaces, control characters and a lone %)");
    }
  }

  public static double share(String field, double value) {
    if (Double.isNaN(value) || value < 0 || value > 1) {
      throw LodestarException.invalid(field, field + " must be within 0–1, got " + value);
    }
    return value;
  }
}
