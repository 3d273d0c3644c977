package io.lodestar.core.config;

import io.lodestar.api.v1.GraySelector;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Decides whether a client takes part in a gray release. Pure and deterministic: the percentage
 * uses a stable FNV-1a hash of the client id, so a client keeps its bucket across restarts and
 * servers, and raising the percentage only ever adds clients.
 */
public final class GrayRule {
  public static final int BUCKETS = 100;
  public static final int MAX_ADDRESSES = 1000;

  private GrayRule() {}

  /** True when any criterion of the selector matches the client. */
  public static boolean matches(GraySelector s, String clientId, String address, Map<String, String> labels) {
    if (!s.getLabelsMap().isEmpty() && labels != null
        && labels.entrySet().containsAll(s.getLabelsMap().entrySet())) {
      return true;
    }
    if (address != null && !address.isEmpty() && s.getAddressesList().contains(address)) {
      return true;
    }
    return s.getPercent() > 0 && clientId != null && !clientId.isEmpty() && bucket(clientId) < s.getPercent();
  }

  /** The client's bucket, 0–99: 32-bit FNV-1a of the UTF-8 client id, modulo 100. */
  public static int bucket(String clientId) {
    int h = 0x811c9dc5;
    for (byte b : clientId.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x01000193;
    }
    return (int) (Integer.toUnsignedLong(h) % BUCKETS);
  }

  /** Stateless checks of a selector; each failure names the field. */
  public static void validate(GraySelector s) {
    if (s.getLabelsMap().isEmpty() && s.getAddressesCount() == 0 && s.getPercent() == 0) {
      throw LodestarException.invalid("gray", "a gray selector needs labels, addresses or a percent");
    }
    if (s.getPercent() > 100) {
      throw LodestarException.invalid("gray.percent", "gray.percent must be within 0–100, got " + s.getPercent());
    }
    Validation.metadata("gray.labels", s.getLabelsMap());
    if (s.getAddressesCount() > MAX_ADDRESSES) {
      throw LodestarException.invalid("gray.addresses", "gray.addresses has more than " + MAX_ADDRESSES + " entries");
    }
    for (String a : s.getAddressesList()) {
      Validation.ipAddress("gray.addresses", a); // matched against the client's address, always a literal
    }
  }
}
