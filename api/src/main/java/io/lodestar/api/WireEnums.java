package io.lodestar.api;

import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the API spells a proto enum's values outside protobuf (REST JSON, error messages, logs): the
 * value's name in lower case, e.g. {@code LoadBalanceRule.Policy.RING_HASH} is
 * {@code ring_hash}, {@code RuleKind.LOADBALANCE} is {@code loadbalance}. The {@code _UNSPECIFIED}
 * value (number 0) is "the default" and is spelled as the empty string. Every side (core validation,
 * the server's JSON, the SDK) takes its list of allowed values from the enum through here, so a
 * value added to the .proto is known everywhere at once.
 */
public final class WireEnums {
  private WireEnums() {}

  /** The lower-case name of {@code v}; "" for the unspecified value. */
  public static String name(EnumValueDescriptor v) {
    return v.getNumber() == 0 ? "" : v.getName().toLowerCase(Locale.ROOT);
  }

  /** The value spelled {@code name} (lower case; "" is the unspecified one), or null if there is none. */
  public static EnumValueDescriptor value(EnumDescriptor type, String name) {
    if (name.isEmpty()) {
      return type.findValueByNumber(0);
    }
    if (!name.equals(name.toLowerCase(Locale.ROOT))) {
      return null;
    }
    EnumValueDescriptor v = type.findValueByName(name.toUpperCase(Locale.ROOT));
    return v == null || v.getNumber() == 0 ? null : v;
  }

  /** Every value but the unspecified one, in lower case, in declaration order. */
  public static List<String> names(EnumDescriptor type) {
    List<String> out = new ArrayList<>();
    for (EnumValueDescriptor v : type.getValues()) {
      if (v.getNumber() != 0) {
        out.add(name(v));
      }
    }
    return List.copyOf(out);
  }

  /** The message every side gives for a value that is not one of {@code type}'s. */
  public static String notOneOf(String field, EnumDescriptor type, String got) {
    return field + " must be one of " + String.join(", ", names(type)) + "; got '" + got + "'";
  }
}
