package io.lodestar.bench.compare;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The little JSON the peers need, without a JSON library on the bench classpath: quoting, the
 * registration body Eureka's clients send, and the instance ids of an application response.
 */
final class EurekaJson {
  private EurekaJson() {}

  /** The {@code {"instance": {...}}} body of {@code POST /eureka/apps/{APP}}, as Eureka's clients send it. */
  static String instanceBody(Inst inst, String app, long lastDirtyTimestamp) {
    StringBuilder b = new StringBuilder(512);
    b.append("{\"instance\":{")
        .append("\"instanceId\":").append(quote(inst.id()))
        .append(",\"hostName\":").append(quote(inst.host()))
        .append(",\"app\":").append(quote(app))
        .append(",\"ipAddr\":").append(quote(inst.host()))
        .append(",\"status\":\"UP\"")
        .append(",\"port\":{\"$\":").append(inst.port()).append(",\"@enabled\":\"true\"}")
        .append(",\"securePort\":{\"$\":443,\"@enabled\":\"false\"}")
        .append(",\"dataCenterInfo\":{\"@class\":\"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo\",")
        .append("\"name\":\"MyOwn\"}")
        .append(",\"leaseInfo\":{\"renewalIntervalInSecs\":").append(EurekaPeerClient.RENEWAL_SECONDS)
        .append(",\"durationInSecs\":").append(EurekaPeerClient.LEASE_SECONDS).append('}')
        .append(",\"lastDirtyTimestamp\":\"").append(lastDirtyTimestamp).append('"')
        .append(",\"metadata\":{");
    String sep = "";
    for (Map.Entry<String, String> e : inst.metadata().entrySet()) {
      b.append(sep).append(quote(e.getKey())).append(':').append(quote(e.getValue()));
      sep = ",";
    }
    return b.append("}}}").toString();
  }

  /**
   * The instance ids in a {@code GET /eureka/apps/{APP}} response. Eureka's codecs give
   * {@code application.instance} as an array, or as a bare object when there is one instance
   * (the XStream-style codec of older servers), so both are accepted.
   */
  static Set<String> instanceIds(String body) {
    if (body == null || body.isBlank()) {
      return Set.of();
    }
    Object root = new Parser(body).document();
    Object application = root instanceof Map<?, ?> m ? m.get("application") : null;
    Object instance = application instanceof Map<?, ?> m ? m.get("instance") : null;
    List<?> instances = instance instanceof List<?> l ? l : instance == null ? List.of() : List.of(instance);
    Set<String> ids = new HashSet<>();
    for (Object i : instances) {
      if (i instanceof Map<?, ?> m && m.get("instanceId") instanceof String id) {
        ids.add(id);
      } else {
        throw new IllegalArgumentException("Eureka instance without an instanceId: " + i);
      }
    }
    return Set.copyOf(ids);
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /** A strict recursive-descent JSON reader: objects to maps, arrays to lists, scalars to String/Double/Boolean/null. */
  private static final class Parser {
    private final String s;
    private int i;

    Parser(String s) {
      this.s = s;
    }

    Object document() {
      Object v = value();
      skipWs();
      if (i != s.length()) {
        throw error("trailing characters");
      }
      return v;
    }

    private Object value() {
      skipWs();
      if (i >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(i);
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          return number();
      }
    }

    private Map<String, Object> object() {
      Map<String, Object> m = new LinkedHashMap<>();
      i++; // {
      skipWs();
      if (peek() == '}') {
        i++;
        return m;
      }
      while (true) {
        skipWs();
        if (peek() != '"') {
          throw error("expected a key");
        }
        String key = string();
        skipWs();
        expect(':');
        m.put(key, value());
        skipWs();
        char c = next();
        if (c == '}') {
          return m;
        }
        if (c != ',') {
          throw error("expected , or }");
        }
      }
    }

    private List<Object> array() {
      List<Object> l = new ArrayList<>();
      i++; // [
      skipWs();
      if (peek() == ']') {
        i++;
        return l;
      }
      while (true) {
        l.add(value());
        skipWs();
        char c = next();
        if (c == ']') {
          return l;
        }
        if (c != ',') {
          throw error("expected , or ]");
        }
      }
    }

    private String string() {
      i++; // opening quote
      StringBuilder b = new StringBuilder();
      while (true) {
        char c = next();
        if (c == '"') {
          return b.toString();
        }
        if (c != '\\') {
          b.append(c);
          continue;
        }
        char e = next();
        switch (e) {
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          case 'u' -> {
            if (i + 4 > s.length()) {
              throw error("bad \\u escape");
            }
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> b.append(e); // \" \\ \/
        }
      }
    }

    private Double number() {
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
        i++;
      }
      if (start == i) {
        throw error("unexpected character");
      }
      return Double.valueOf(s.substring(start, i));
    }

    private Object literal(String word, Object v) {
      if (!s.startsWith(word, i)) {
        throw error("unexpected character");
      }
      i += word.length();
      return v;
    }

    private void skipWs() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    private char peek() {
      return i < s.length() ? s.charAt(i) : '\0';
    }

    private char next() {
      if (i >= s.length()) {
        throw error("unexpected end");
      }
      return s.charAt(i++);
    }

    private void expect(char c) {
      if (next() != c) {
        throw error("expected " + c);
      }
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException("bad JSON from Eureka at offset " + i + ": " + what);
    }
  }
}
