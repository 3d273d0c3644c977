package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.core.LodestarException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The part of Consul's {@code filter} expression language that clients use on health queries:
 * {@code Selector == "value"}, {@code !=}, {@code contains}, {@code not contains}, {@code "value" in
 * Selector}, {@code not in}, {@code is empty}, {@code is not empty}, combined with {@code and},
 * {@code or}, {@code not} and parentheses. A selector is a dotted path into the result's JSON
 * ({@code Service.Meta.version}, {@code Service.Tags}, {@code Node.Node}, {@code Checks.Status});
 * through an array of objects it matches when any element does.
 */
final class ConsulFilter {
  /*
   * The top-level fields each endpoint's result has in Consul (a union over recent versions,
   * including what Lodestar does not render: those select nothing here). Consul refuses any other
   * selector; a typo here used to select nothing, silently, which on a health query looks like
   * an outage. Only the first segment is checked: below it are maps and Consul's nested types.
   */
  static final Set<String> HEALTH_FIELDS = Set.of("Node", "Service", "Checks");
  static final Set<String> CATALOG_FIELDS = Set.of("ID", "Node", "Address", "Datacenter", "TaggedAddresses",
      "NodeMeta", "ServiceKind", "ServiceID", "ServiceName", "ServiceTags", "ServiceAddress",
      "ServiceTaggedAddresses", "ServiceWeights", "ServiceMeta", "ServicePort", "ServiceSocketPath",
      "ServiceEnableTagOverride", "ServiceProxy", "ServiceConnect", "ServiceLocality", "Locality", "Namespace",
      "Partition", "PeerName", "CreateIndex", "ModifyIndex");
  static final Set<String> AGENT_SERVICE_FIELDS = Set.of("Kind", "ID", "Service", "Tags", "Address",
      "TaggedAddresses", "Meta", "Port", "SocketPath", "Weights", "EnableTagOverride", "Proxy", "Connect",
      "LocallyRegisteredAsSidecar", "Locality", "PeerName", "Namespace", "Partition", "Datacenter", "ContentHash",
      "CreateIndex", "ModifyIndex");
  static final Set<String> AGENT_CHECK_FIELDS = Set.of("Node", "CheckID", "Name", "Status", "Notes", "Output",
      "ServiceID", "ServiceName", "ServiceTags", "Type", "Interval", "Timeout", "ExposedPort", "Definition",
      "PeerName", "Namespace", "Partition", "CreateIndex", "ModifyIndex");

  private final List<String> tokens;
  private final Set<String> fields;
  private int pos;

  private ConsulFilter(List<String> tokens, Set<String> fields) {
    this.tokens = tokens;
    this.fields = fields;
  }

  /**
   * Parses an expression over a result whose top-level fields are {@code fields}; a malformed one,
   * or one naming another field, is a 400 naming what is wrong, as Consul's.
   */
  static Predicate<JsonNode> parse(String expression, Set<String> fields) {
    ConsulFilter f = new ConsulFilter(tokenize(expression), fields);
    Predicate<JsonNode> p = f.or();
    if (f.pos != f.tokens.size()) {
      throw invalid("unexpected '" + f.tokens.get(f.pos) + "'");
    }
    return p;
  }

  private Predicate<JsonNode> or() {
    Predicate<JsonNode> p = and();
    while (accept("or")) {
      p = p.or(and());
    }
    return p;
  }

  private Predicate<JsonNode> and() {
    Predicate<JsonNode> p = unary();
    while (accept("and")) {
      p = p.and(unary());
    }
    return p;
  }

  private Predicate<JsonNode> unary() {
    if (accept("not")) {
      return unary().negate();
    }
    if (accept("(")) {
      Predicate<JsonNode> p = or();
      expect(")");
      return p;
    }
    String first = next();
    if (isValue(first) && (peek("in") || peek("not"))) {
      boolean negate = accept("not");
      expect("in");
      String sel = selector(next());
      String value = unquote(first);
      Predicate<JsonNode> p = n -> values(n, sel).contains(value);
      return negate ? p.negate() : p;
    }
    String sel = selector(first);
    if (accept("==")) {
      String v = unquote(next());
      return n -> values(n, sel).contains(v);
    }
    if (accept("!=")) {
      String v = unquote(next());
      return n -> !values(n, sel).contains(v);
    }
    if (accept("contains")) {
      String v = unquote(next());
      return n -> values(n, sel).contains(v);
    }
    if (accept("is")) {
      boolean negate = accept("not");
      expect("empty");
      Predicate<JsonNode> p = n -> values(n, sel).isEmpty() || values(n, sel).equals(List.of(""));
      return negate ? p.negate() : p;
    }
    if (accept("not")) {
      expect("contains");
      String v = unquote(next());
      return n -> !values(n, sel).contains(v);
    }
    throw invalid(pos < tokens.size() ? "unsupported operator '" + tokens.get(pos) + "'" : "missing operator");
  }

  /** Every scalar the selector reaches: through arrays, element by element. */
  private static List<String> values(JsonNode root, String selector) {
    List<JsonNode> at = new ArrayList<>(List.of(root));
    for (String part : selector.split("\\.")) {
      List<JsonNode> next = new ArrayList<>();
      for (JsonNode n : at) {
        if (n.isArray()) {
          n.forEach(e -> {
            if (e.has(part)) {
              next.add(e.get(part));
            }
          });
        } else if (n.has(part)) {
          next.add(n.get(part));
        }
      }
      at = next;
    }
    List<String> out = new ArrayList<>();
    for (JsonNode n : at) {
      if (n.isArray()) {
        n.forEach(e -> out.add(e.asText()));
      } else if (n.isObject()) {
        n.fieldNames().forEachRemaining(out::add);  // `"k" in Service.Meta`: its keys
      } else {
        out.add(n.asText());
      }
    }
    return out;
  }

  private String selector(String token) {
    if (isValue(token) || !Character.isLetter(token.charAt(0))) {
      throw invalid("expected a selector such as Service.Meta.version, got " + token);
    }
    int dot = token.indexOf('.');
    if (!fields.contains(dot < 0 ? token : token.substring(0, dot))) {
      throw invalid("Selector \"" + token + "\" is not valid");
    }
    return token;
  }

  private static boolean isValue(String t) {
    return t.startsWith("\"") || t.startsWith("`");
  }

  private static String unquote(String t) {
    if (isValue(t)) {
      return t.substring(1, t.length() - 1).replace("\\\"", "\"");
    }
    return t;  // bare values: numbers, true/false, words
  }

  private boolean peek(String t) {
    return pos < tokens.size() && tokens.get(pos).equals(t);
  }

  private boolean accept(String t) {
    if (peek(t)) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(String t) {
    if (!accept(t)) {
      throw invalid("expected '" + t + "'");
    }
  }

  private String next() {
    if (pos >= tokens.size()) {
      throw invalid("unexpected end of expression");
    }
    return tokens.get(pos++);
  }

  private static List<String> tokenize(String s) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '"' || c == '`') {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != c) {
          j += s.charAt(j) == '\\' && c == '"' ? 2 : 1;
        }
        if (j >= s.length()) {
          throw invalid("unterminated string");
        }
        out.add(s.substring(i, j + 1));
        i = j + 1;
      } else if (c == '(' || c == ')') {
        out.add(String.valueOf(c));
        i++;
      } else if ((c == '=' || c == '!') && i + 1 < s.length() && s.charAt(i + 1) == '=') {
        out.add(s.substring(i, i + 2));
        i += 2;
      } else {
        int j = i;
        while (j < s.length() && !Character.isWhitespace(s.charAt(j)) && "()\"`=!".indexOf(s.charAt(j)) < 0) {
          j++;
        }
        if (j == i) {
          throw invalid("unexpected '" + c + "'");
        }
        out.add(s.substring(i, j));
        i = j;
      }
    }
    if (out.isEmpty()) {
      throw invalid("empty expression");
    }
    return out;
  }

  private static LodestarException invalid(String why) {
    return LodestarException.invalid("filter", "Failed to create boolean expression evaluator: " + why);
  }
}
