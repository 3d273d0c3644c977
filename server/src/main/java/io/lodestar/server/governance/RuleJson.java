package io.lodestar.server.governance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.lodestar.api.v1.CircuitBreakerRule;
import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.LoadBalanceRule;
import io.lodestar.api.v1.RateLimitRules;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.core.LodestarException;
import io.lodestar.core.governance.RuleKind;
import io.lodestar.server.http.Json;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rules in and out of JSON. The JSON of a rule is the proto3 JSON mapping of its message
 * (lowerCamelCase names), so docs/api.md, the CLI and the SDK share one schema.
 */
final class RuleJson {
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final Pattern UNKNOWN = Pattern.compile("Cannot find field: (\\S+)");

  private RuleJson() {}

  /** Parses the body of a put into rules holding only that kind. Version fields are the server's. */
  static GovernanceRules parse(RuleKind kind, String body) {
    Json.parseObject(body);  // malformed JSON gets the API's usual message, naming "body"
    GovernanceRules.Builder r = GovernanceRules.newBuilder();
    switch (kind) {
      case LOADBALANCE -> r.setLoadbalance(merge(LoadBalanceRule.newBuilder(), body).clearVersion().clearUpdatedAtMs());
      case ROUTE -> r.setRoute(merge(RouteRules.newBuilder(), body).clearVersion().clearUpdatedAtMs());
      case CIRCUITBREAKER -> r.setCircuitbreaker(merge(CircuitBreakerRule.newBuilder(), body).clearVersion()
          .clearUpdatedAtMs());
      case RATELIMIT -> r.setRatelimit(merge(RateLimitRules.newBuilder(), body).clearVersion().clearUpdatedAtMs());
      case LANE -> r.setLane(merge(io.lodestar.api.v1.LaneRules.newBuilder(), body).clearVersion().clearUpdatedAtMs());
    }
    return r.build();
  }

  private static <B extends Message.Builder> B merge(B builder, String body) {
    try {
      PARSER.merge(body, builder);
      return builder;
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String msg = e.getMessage() == null ? "invalid rule" : e.getMessage();
      Matcher m = UNKNOWN.matcher(msg);
      if (m.find()) {
        throw LodestarException.invalid(m.group(1), "unknown field '" + m.group(1) + "'");
      }
      throw LodestarException.invalid("body", "invalid rule: " + msg);
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
      numbers(m.getDescriptorForType(), tree);
      return tree;
    } catch (InvalidProtocolBufferException | JsonProcessingException e) {
      throw new IllegalStateException("cannot print " + m.getDescriptorForType().getName(), e);
    }
  }

  /**
   * The proto3 JSON mapping prints 64-bit integers as strings ({@code "version": "3"}), for
   * JavaScript's sake; a version or a limit is a number to a reader of the API or the CLI, and no
   * rule field comes near 2^53. The parser takes either form.
   */
  private static void numbers(com.google.protobuf.Descriptors.Descriptor type, JsonNode node) {
    if (!(node instanceof com.fasterxml.jackson.databind.node.ObjectNode obj)) {
      return;
    }
    for (com.google.protobuf.Descriptors.FieldDescriptor f : type.getFields()) {
      JsonNode v = obj.get(f.getJsonName());
      if (v == null || f.isMapField()) {
        continue;
      }
      switch (f.getJavaType()) {
        case LONG -> {
          if (v.isTextual()) {
            obj.put(f.getJsonName(), new java.math.BigInteger(v.asText()));
          } else if (v.isArray()) {
            com.fasterxml.jackson.databind.node.ArrayNode a = Json.MAPPER.createArrayNode();
            v.forEach(x -> a.add(new java.math.BigInteger(x.asText())));
            obj.set(f.getJsonName(), a);
          }
        }
        case MESSAGE -> {
          if (v.isArray()) {
            v.forEach(x -> numbers(f.getMessageType(), x));
          } else {
            numbers(f.getMessageType(), v);
          }
        }
        default -> { }
      }
    }
  }
}
