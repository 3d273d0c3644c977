package io.lodestar.client.governance;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The routing decision behind one call, as the Spring and grpc integrations put it on trace spans
 * (docs/observability.md#traces). Every field but {@code instance} may be null: no route rule
 * matched, the call fell back to every instance, or it is in no lane.
 *
 * @param rule the name of the route rule that matched ({@code #<index>} for an unnamed rule)
 * @param subset the destination subset the instance was picked from, as {@code key=value,...}
 * @param lane the lane the call is in
 * @param instance the id of the chosen instance
 */
public record RouteDecision(String rule, String subset, String lane, String instance) {
  static String format(Map<String, String> subset) {
    return new TreeMap<>(subset).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }
}
