package io.lodestar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CLI reads and writes JSON without databind's ObjectMapper, to the same tree and text. */
class JsonTest {
  /** What the CLI used before (and what it must still match). */
  private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private static final List<String> SAMPLES = List.of(
      "{\"instances\":[{\"id\":\"10.0.0.7:8080\",\"host\":\"10.0.0.7\",\"port\":8080,\"weight\":100,"
          + "\"metadata\":{\"zone\":\"a\",\"v\":\"1\"},\"ephemeral\":false,\"check\":null}],\"protectionApplied\":false}",
      "{\"a\":1.50,\"b\":100.0,\"c\":0.0,\"d\":-0.0,\"e\":1e3,\"f\":1.25E-7,\"g\":12345678901,\"h\":123456789012345678901234567890,"
          + "\"i\":-2147483648,\"j\":2147483648}",
      "[]", "{}", "[[],{},[{}]]", "\"text with \\\"quotes\\\", \\u00e9 and \\n\"", "42", "true", "null",
      "{\"dup\":1,\"dup\":2}", "{\"nested\":{\"deeper\":{\"list\":[1,\"two\",3.0,false,null]}}}", "{\"unicode\":\"0–10000 ✓\"}");

  @Test
  void readsTheTreeObjectMapperReads() throws Exception {
    for (String s : SAMPLES) {
      assertThat(Json.read(s)).as(s).isEqualTo(MAPPER.readTree(s));
      assertThat(Json.read(s.getBytes(StandardCharsets.UTF_8))).as(s).isEqualTo(MAPPER.readTree(s));
    }
    assertThat(Json.read("").isMissingNode()).isTrue();
    assertThat(Json.read("  ").isMissingNode()).isTrue();
  }

  @Test
  void writesTheTextObjectMapperWrites() throws Exception {
    for (String s : SAMPLES) {
      JsonNode tree = MAPPER.readTree(s);
      assertThat(Json.write(tree)).as(s).isEqualTo(MAPPER.writeValueAsString(tree)).isEqualTo(tree.toString());
      assertThat(Json.pretty(tree)).as(s).isEqualTo(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(tree));
    }
    // nodes the CLI builds itself, with the numbers code puts in them
    var body = Json.object().put("host", "10.0.0.7").put("port", 8080).put("ttl", 10L).put("ratio", 0.25)
        .put("share", 0.5f).put("ok", true).putNull("none");
    body.putArray("tags").add("a").add(2);
    assertThat(Json.write(body)).isEqualTo(MAPPER.writeValueAsString(body));
    assertThat(Json.pretty(body)).isEqualTo(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(body));
  }

  @Test
  void badJsonFailsAsTheParserSaysAndAnythingAfterTheValueIsRefused() throws Exception {
    for (String bad : List.of("{", "{\"a\":}", "[1,,2]", "nope", "{\"a\" 1}")) {
      assertThatThrownBy(() -> Json.read(bad)).as(bad).isInstanceOf(JsonProcessingException.class)
          .hasMessageStartingWith(messageOf(bad));
    }
    // ObjectMapper.readTree stops after the first value; a JSON text is one value (as the server reads it)
    for (String trailing : List.of("{\"a\":1} trailing", "{\"a\":1}{\"a\":2}", "{\"a\":1}]", "1 2")) {
      assertThatThrownBy(() -> Json.read(trailing)).as(trailing).isInstanceOf(JsonProcessingException.class);
    }
    assertThat(Json.read(" {\"a\":1}\n")).isEqualTo(MAPPER.readTree("{\"a\":1}"));
  }

  /** The parser's message up to its first colon: what is wrong, where (the rest may be worded apart). */
  private static String messageOf(String bad) {
    try {
      MAPPER.readTree(bad);
      throw new AssertionError("ObjectMapper read " + bad);
    } catch (JsonProcessingException e) {
      String m = e.getOriginalMessage();
      return m.substring(0, m.indexOf(':'));
    }
  }
}
