package io.lodestar.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON text to and from Jackson's tree ({@link JsonNode}), over jackson-core's streaming parser
 * and generator only. Databind's {@code ObjectMapper} would do the same, but a CLI call is a fresh
 * JVM and setting one up costs more CPU than the rest of a call together (docs/benchmarks.md, "The
 * command line"). The tree is the one {@code ObjectMapper.readTree} builds with floats as
 * {@code BigDecimal} (trailing zeros stripped), and the text the one it writes (JsonTest checks
 * both against it).
 */
final class Json {
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Json() {}

  static ObjectNode object() {
    return NODES.objectNode();
  }

  /** The value of {@code text}; {@link MissingNode} when there is none (empty text). */
  static JsonNode read(String text) throws JsonProcessingException {
    try (JsonParser p = FACTORY.createParser(text)) {
      return read(p);
    } catch (JsonProcessingException e) {
      throw e;
    } catch (IOException e) {  // a String does not fail to read
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode read(byte[] utf8) throws IOException {
    try (JsonParser p = FACTORY.createParser(utf8)) {
      return read(p);
    }
  }

  private static JsonNode read(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t == null) {
      return MissingNode.getInstance();
    }
    JsonNode v = value(p, t);
    if (p.nextToken() != null) { // a JSON text is one value: '{..}{..}' is not the first of them
      throw new JsonParseException(p, "unexpected content after the JSON value");
    }
    return v;
  }

  private static JsonNode value(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT -> {
        ObjectNode o = NODES.objectNode();
        for (JsonToken f = p.nextToken(); f == JsonToken.FIELD_NAME; f = p.nextToken()) {
          String name = p.currentName();
          o.set(name, value(p, p.nextToken()));
        }
        return o;
      }
      case START_ARRAY -> {
        ArrayNode a = NODES.arrayNode();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
          a.add(value(p, e));
        }
        return a;
      }
      case VALUE_STRING -> {
        return NODES.textNode(p.getText());
      }
      case VALUE_NUMBER_INT -> {
        return switch (p.getNumberType()) {
          case INT -> NODES.numberNode(p.getIntValue());
          case LONG -> NODES.numberNode(p.getLongValue());
          default -> NODES.numberNode(p.getBigIntegerValue());
        };
      }
      case VALUE_NUMBER_FLOAT -> {
        return NODES.numberNode(p.getDecimalValue().stripTrailingZeros());
      }
      case VALUE_TRUE -> {
        return NODES.booleanNode(true);
      }
      case VALUE_FALSE -> {
        return NODES.booleanNode(false);
      }
      case VALUE_NULL -> {
        return NODES.nullNode();
      }
      default -> throw new JsonParseException(p, "unexpected " + t);
    }
  }

  /** On one line, as {@code JsonNode.toString()} writes it. */
  static String write(JsonNode node) {
    return write(node, false);
  }

  /** Indented as {@code ObjectMapper.writerWithDefaultPrettyPrinter()} writes it. */
  static String pretty(JsonNode node) {
    return write(node, true);
  }

  private static String write(JsonNode node, boolean pretty) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(w)) {
      if (pretty) {
        g.setPrettyPrinter(new DefaultPrettyPrinter());
      }
      write(g, node);
    } catch (IOException e) {  // a StringWriter does not fail
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  private static void write(JsonGenerator g, JsonNode n) throws IOException {
    switch (n.getNodeType()) {
      case OBJECT -> {
        g.writeStartObject();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          g.writeFieldName(e.getKey());
          write(g, e.getValue());
        }
        g.writeEndObject();
      }
      case ARRAY -> {
        g.writeStartArray();
        for (JsonNode e : n) {
          write(g, e);
        }
        g.writeEndArray();
      }
      case STRING -> g.writeString(n.textValue());
      case NUMBER -> {
        switch (n.numberType()) {
          case INT -> g.writeNumber(n.intValue());
          case LONG -> g.writeNumber(n.longValue());
          case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
          case FLOAT -> g.writeNumber(n.floatValue());
          case DOUBLE -> g.writeNumber(n.doubleValue());
          default -> g.writeNumber(n.decimalValue());
        }
      }
      case BOOLEAN -> g.writeBoolean(n.booleanValue());
      case NULL -> g.writeNull();
      default -> g.writeString(n.asText());  // MISSING, BINARY, POJO: the CLI makes none of these
    }
  }
}
