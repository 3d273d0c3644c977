package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A plain text table: left-aligned columns two spaces apart, no trailing blanks. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  Table(String... header) {
    columns = header.length;
    rows.add(header);
  }

  Table row(Object... cells) {
    String[] r = new String[columns];
    for (int i = 0; i < columns; i++) {
      Object c = i < cells.length ? cells[i] : null;
      r[i] = c == null || c.toString().isEmpty() ? "-" : c.toString();
    }
    rows.add(r);
    return this;
  }

  void print(PrintStream out) {
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        b.append(r[i]);
        if (i < columns - 1) {
          b.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      out.println(b.toString().stripTrailing());
    }
    out.flush();
  }

  // ------------------------------------------------------------------ cell formatting

  /** {@code k=v,k2=v2}, sorted by key; empty string when there is none. */
  static String metadata(JsonNode m) {
    if (m == null || !m.isObject() || m.isEmpty()) {
      return "";
    }
    Map<String, String> sorted = new TreeMap<>();
    m.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : Json.write(e.getValue())));
    StringBuilder b = new StringBuilder();
    sorted.forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
    return b.toString();
  }

  /** host:port, with IPv6 hosts bracketed. */
  static String address(JsonNode instance) {
    String host = instance.path("host").asText();
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return host + ":" + instance.path("port").asText();
  }

  /** An instant given either as epoch milliseconds or as text, shown in UTC to the second. */
  static String time(JsonNode t) {
    if (t == null || t.isMissingNode() || t.isNull()) {
      return "";
    }
    if (t.isNumber()) {
      long ms = t.asLong();
      if (ms <= 0) {
        return "";
      }
      return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(Instant.ofEpochMilli(ms).atOffset(ZoneOffset.UTC)
          .withNano(0).toLocalDateTime()) + "Z";
    }
    try {
      Instant i = Instant.parse(t.asText());
      // epoch 0 means "not recorded" (the built-in default namespace)
      return i.equals(Instant.EPOCH) ? "" : i.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    } catch (java.time.format.DateTimeParseException e) {
      return t.asText();
    }
  }

  static String plural(long n, String word) {
    return n + " " + word + (n == 1 ? "" : "s");
  }
}
