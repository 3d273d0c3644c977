package io.lodestar.server.governance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.lodestar.api.WireEnums;
import io.lodestar.api.v1.CircuitBreakerRule;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.core.LodestarException;
import io.lodestar.core.governance.RuleKind;
import io.lodestar.server.http.Json;
import java.math.BigInteger;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rules in and out of JSON. The JSON of a rule is the proto3 JSON mapping of its message
 * (lowerCamelCase names), so docs/api.md, the CLI and the SDK share one schema, with two
 * adjustments made here by the message descriptors, for every field alike: enum values are
 * spelled in lower case ({@link WireEnums}: "ring_hash", not "RING_HASH"), and 64-bit numbers are
 * JSON numbers. Keys come in the order the .proto declares its fields, so a field that moved to a
 * new number (a string that became an enum) keeps its place in the output.
 */
final class RuleJson {
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final com.fasterxml.jackson.databind.ObjectReader STRICT = Json.MAPPER.reader()
      .with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION);
  private static final Pattern UNKNOWN = Pattern.compile("Cannot find field: (\\S+)");

  private RuleJson() {}

  /** Parses the body of a put into rules holding only that kind. Version fields are the server's. */
  static GovernanceRules parse(RuleKind kind, String body) {
    Json.parseObject(body);  // malformed JSON gets the API's usual message, naming "body"
    JsonNode tree;
    try {
      tree = STRICT.readTree(body);  // a key given twice is refused, as the JSON mapping refuses it
    } catch (JsonProcessingException e) {
      throw LodestarException.invalid("body", "invalid rule: " + e.getOriginalMessage());
    }
    GovernanceRules.Builder r = GovernanceRules.newBuilder();
    switch (kind) {
      case LOADBALANCE -> r.setLoadbalance(merge(LoadBalanceRule.newBuilder(), tree).clearVersion().clearUpdatedAtMs());
      case ROUTE -> r.setRoute(merge(RouteRules.newBuilder(), tree).clearVersion().clearUpdatedAtMs());
      case CIRCUITBREAKER -> r.setCircuitbreaker(merge(CircuitBreakerRule.newBuilder(), tree).clearVersion()
          .clearUpdatedAtMs());
      case RATELIMIT -> r.setRatelimit(merge(RateLimitRules.newBuilder(), tree).clearVersion().clearUpdatedAtMs());
      case LANE -> r.setLane(merge(io.lodestar.api.v1.LaneRules.newBuilder(), tree).clearVersion().clearUpdatedAtMs());
    }
    return r.build();
  }

  private static <B extends Message.Builder> B merge(B builder, JsonNode tree) {
    if (tree instanceof ObjectNode top) {
      top.remove(List.of("version", "updatedAtMs")); // the server's: ignored, whatever they hold
    }
    // an unknown field is reported before a bad enum value, as the JSON mapping reads before validation
    String[] badEnum = new String[2];
    enumsIn(builder.getDescriptorForType(), tree, "", badEnum);
    try {
      PARSER.merge(tree.toString(), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String msg = e.getMessage() == null ? "invalid rule" : e.getMessage();
      Matcher m = UNKNOWN.matcher(msg);
      if (m.find()) {
        throw LodestarException.invalid(m.group(1), "unknown field '" + m.group(1) + "'");
      }
      String[] bad = new String[2];
      typesIn(builder.getDescriptorForType(), tree, "", bad);
      if (bad[0] != null) { // the mapping's own message names no field: name it by its JSON path
        throw LodestarException.invalid(bad[0], bad[1]);
      }
      throw LodestarException.invalid("body", "invalid rule: " + msg);
    }
    String[] bad = new String[2];
    typesIn(builder.getDescriptorForType(), tree, "", bad); // the mapping takes 5 for a string: "5"
    if (bad[0] != null) {
      throw LodestarException.invalid(bad[0], bad[1]);
    }
    if (badEnum[0] != null) {
      throw LodestarException.invalid(badEnum[0], badEnum[1]);
    }
    return builder;
  }

  /**
   * Turns the REST spelling of each enum value in {@code node} into the proto name the JSON mapping
   * reads. A value that names none is removed and the first such is noted in {@code bad} (field
   * path, message), named by its JSON path as core's validation names fields.
   */
  private static void enumsIn(Descriptor type, JsonNode node, String path, String[] bad) {
    if (!(node instanceof ObjectNode obj)) {
      return;
    }
    for (FieldDescriptor f : type.getFields()) {
      JsonNode v = obj.get(f.getJsonName());
      if (v == null || v.isNull()) {
        continue;
      }
      String p = path.isEmpty() ? f.getJsonName() : path + "." + f.getJsonName();
      if (f.isMapField()) {
        FieldDescriptor value = f.getMessageType().findFieldByName("value");
        if (value.getJavaType() == FieldDescriptor.JavaType.MESSAGE && v.isObject()) {
          v.properties().forEach(e -> enumsIn(value.getMessageType(), e.getValue(), p + "." + e.getKey(), bad));
        }
      } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (v.isArray()) {
          for (int i = 0; i < v.size(); i++) {
            enumsIn(f.getMessageType(), v.get(i), p + "[" + i + "]", bad);
          }
        } else {
          enumsIn(f.getMessageType(), v, p, bad);
        }
      } else if (f.getJavaType() == FieldDescriptor.JavaType.ENUM && !f.isRepeated()) {
        EnumValueDescriptor e = v.isTextual() ? WireEnums.value(f.getEnumType(), v.asText()) : null;
        if (e != null) {
          obj.put(f.getJsonName(), e.getName());
        } else {
          obj.remove(f.getJsonName());
          if (bad[0] == null) {
            bad[0] = p;
            bad[1] = WireEnums.notOneOf(p, f.getEnumType(), v.isTextual() ? v.asText() : v.toString());
          }
        }
      }
    }
  }

  /**
   * Finds the first value in {@code node} whose JSON type its field cannot take, as the JSON
   * mapping reads them (a 64-bit or 32-bit integer may also be a numeric string), and notes its
   * path and why in {@code bad}: the mapping's own refusals name no field, and it takes some
   * values that are not of their field's type (a number for a string).
   */
  private static void typesIn(Descriptor type, JsonNode node, String path, String[] bad) {
    if (!(node instanceof ObjectNode obj)) {
      return;
    }
    for (FieldDescriptor f : type.getFields()) {
      JsonNode v = obj.get(f.getJsonName());
      if (v == null || v.isNull() || bad[0] != null) {
        continue;
      }
      String p = path.isEmpty() ? f.getJsonName() : path + "." + f.getJsonName();
      if (f.isMapField()) {
        if (!v.isObject()) {
          note(bad, p, p + " must be an object");
          continue;
        }
        FieldDescriptor value = f.getMessageType().findFieldByName("value");
        v.properties().forEach(e -> value(value, e.getValue(), p + "." + e.getKey(), bad));
      } else if (f.isRepeated()) {
        if (!v.isArray()) {
          note(bad, p, p + " must be an array");
          continue;
        }
        for (int i = 0; i < v.size(); i++) {
          value(f, v.get(i), p + "[" + i + "]", bad);
        }
      } else {
        value(f, v, p, bad);
      }
    }
  }

  private static void value(FieldDescriptor f, JsonNode v, String p, String[] bad) {
    if (bad[0] != null) {
      return;
    }
    if (v.isNull()) {
      note(bad, p, p + " must not be null");
      return;
    }
    switch (f.getJavaType()) {
      case MESSAGE -> {
        if (!v.isObject()) {
          note(bad, p, p + " must be an object");
        } else {
          typesIn(f.getMessageType(), v, p, bad);
        }
      }
      case INT, LONG -> {
        boolean unsigned = switch (f.getType()) {
          case UINT32, FIXED32, UINT64, FIXED64 -> true;
          default -> false;
        };
        BigInteger max = switch (f.getType()) {
          case UINT32, FIXED32 -> BigInteger.valueOf(0xFFFF_FFFFL);
          case UINT64, FIXED64 -> BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
          case INT64, SINT64, SFIXED64 -> BigInteger.valueOf(Long.MAX_VALUE);
          default -> BigInteger.valueOf(Integer.MAX_VALUE);
        };
        BigInteger min = unsigned ? BigInteger.ZERO : max.negate().subtract(BigInteger.ONE);
        BigInteger n = null;
        try {
          n = v.isIntegralNumber() ? v.bigIntegerValue() : v.isTextual() ? new BigInteger(v.asText()) : null;
        } catch (NumberFormatException ignored) {
          // answered below
        }
        if (n == null || n.compareTo(min) < 0 || n.compareTo(max) > 0) {
          note(bad, p, p + " must be an integer within " + min + "–" + max + ", got " + v);
        }
      }
      case FLOAT, DOUBLE -> {
        if (!v.isNumber() && !(v.isTextual() && v.asText().matches("NaN|-?Infinity|-?[0-9.eE+-]+"))) {
          note(bad, p, p + " must be a number, got " + v);
        }
      }
      case BOOLEAN -> {
        if (!v.isBoolean()) {
          note(bad, p, p + " must be true or false, got " + v);
        }
      }
      case STRING, BYTE_STRING -> {
        if (!v.isTextual()) {
          note(bad, p, p + " must be a string, got " + v);
        }
      }
      default -> { } // enums: named by enumsIn
    }
  }

  private static void note(String[] bad, String path, String message) {
    if (bad[0] == null) {
      bad[0] = path;
      bad[1] = message;
    }
  }

  /** One kind of {@code rules} as a JSON tree, or null when that kind is not set. */
  static JsonNode kind(RuleKind kind, GovernanceRules rules) {
    if (!kind.isSet(rules)) {
      return null;
    }
    return tree(switch (kind) {
      case LOADBALANCE -> rules.getLoadbalance();
      case ROUTE -> rules.getRoute();
      case CIRCUITBREAKER -> rules.getCircuitbreaker();
      case RATELIMIT -> rules.getRatelimit();
      case LANE -> rules.getLane();
    });
  }

  static JsonNode tree(Message m) {
    try {
      JsonNode tree = Json.MAPPER.readTree(PRINTER.print(m));
      return shape(m.getDescriptorForType(), tree);
    } catch (InvalidProtocolBufferException | JsonProcessingException e) {
      throw new IllegalStateException("cannot print " + m.getDescriptorForType().getName(), e);
    }
  }

  /**
   * The REST form of a printed message. The proto3 JSON mapping prints 64-bit integers as strings
   * ({@code "version": "3"}), for JavaScript's sake; a version or a limit is a number to a reader
   * of the API or the CLI, and no rule field comes near 2^53 (the parser takes either form). Enum
   * values get their lower-case spelling, and keys the .proto's declaration order.
   */
  private static JsonNode shape(Descriptor type, JsonNode node) {
    if (!(node instanceof ObjectNode obj)) {
      return node;
    }
    ObjectNode out = Json.MAPPER.createObjectNode();
    for (FieldDescriptor f : type.getFields()) {
      JsonNode v = obj.get(f.getJsonName());
      if (v == null) {
        continue;
      }
      if (f.isMapField()) {
        FieldDescriptor value = f.getMessageType().findFieldByName("value");
        if (value.getJavaType() == FieldDescriptor.JavaType.MESSAGE && v instanceof ObjectNode map) {
          ObjectNode shaped = Json.MAPPER.createObjectNode();
          map.properties().forEach(e -> shaped.set(e.getKey(), shape(value.getMessageType(), e.getValue())));
          v = shaped;
        }
      } else {
        switch (f.getJavaType()) {
          case LONG -> {
            if (v.isTextual()) {
              v = Json.MAPPER.getNodeFactory().numberNode(new BigInteger(v.asText()));
            } else if (v.isArray()) {
              ArrayNode a = Json.MAPPER.createArrayNode();
              v.forEach(x -> a.add(new BigInteger(x.asText())));
              v = a;
            }
          }
          case ENUM -> v = v.isArray() ? v : Json.MAPPER.getNodeFactory().textNode(enumName(f, v.asText()));
          case MESSAGE -> {
            if (v.isArray()) {
              ArrayNode a = Json.MAPPER.createArrayNode();
              v.forEach(x -> a.add(shape(f.getMessageType(), x)));
              v = a;
            } else {
              v = shape(f.getMessageType(), v);
            }
          }
          default -> { }
        }
      }
      out.set(f.getJsonName(), v);
    }
    return out;
  }

  private static String enumName(FieldDescriptor f, String printed) {
    EnumValueDescriptor e = f.getEnumType().findValueByName(printed);
    return e == null ? printed : WireEnums.name(e);
  }
}
