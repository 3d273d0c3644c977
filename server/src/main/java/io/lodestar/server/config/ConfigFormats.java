package io.lodestar.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.MediaType;
import io.lodestar.api.v1.ConfigFormat;
import io.lodestar.core.LodestarException;
import java.io.IOException;
import java.io.StringReader;
import java.util.Locale;
import java.util.Properties;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The four declared formats: names on the wire, media types, and the check that content parses.
 * A refusal names the field {@code content} and says the line, so an operator can fix the file.
 */
public final class ConfigFormats {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private ConfigFormats() {}

  public static ConfigFormat parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "text", "txt" -> ConfigFormat.CONFIG_FORMAT_TEXT;
      case "properties" -> ConfigFormat.CONFIG_FORMAT_PROPERTIES;
      case "yaml", "yml" -> ConfigFormat.CONFIG_FORMAT_YAML;
      case "json" -> ConfigFormat.CONFIG_FORMAT_JSON;
      default -> throw LodestarException.invalid("format",
          "format must be one of text, properties, yaml, json; got '" + name + "'");
    };
  }

  public static String name(ConfigFormat f) {
    return switch (f) {
      case CONFIG_FORMAT_PROPERTIES -> "properties";
      case CONFIG_FORMAT_YAML -> "yaml";
      case CONFIG_FORMAT_JSON -> "json";
      default -> "text";
    };
  }

  /** A format from the config name's extension, for a first publish that declares none. */
  public static ConfigFormat guess(String configName) {
    String n = configName.toLowerCase(Locale.ROOT);
    if (n.endsWith(".properties")) {
      return ConfigFormat.CONFIG_FORMAT_PROPERTIES;
    }
    if (n.endsWith(".yaml") || n.endsWith(".yml")) {
      return ConfigFormat.CONFIG_FORMAT_YAML;
    }
    if (n.endsWith(".json")) {
      return ConfigFormat.CONFIG_FORMAT_JSON;
    }
    return ConfigFormat.CONFIG_FORMAT_TEXT;
  }

  static MediaType mediaType(ConfigFormat f) {
    return switch (f) {
      case CONFIG_FORMAT_PROPERTIES -> MediaType.parse("text/x-java-properties; charset=utf-8");
      case CONFIG_FORMAT_YAML -> MediaType.parse("application/yaml; charset=utf-8");
      case CONFIG_FORMAT_JSON -> MediaType.JSON_UTF_8;
      default -> MediaType.PLAIN_TEXT_UTF_8;
    };
  }

  /** Decodes strict UTF-8 and checks the content parses as the format; returns the text. */
  public static String validate(ConfigFormat f, byte[] content) {
    String text = utf8(content);
    switch (f) {
      case CONFIG_FORMAT_PROPERTIES -> properties(text);
      case CONFIG_FORMAT_YAML -> yaml(text);
      case CONFIG_FORMAT_JSON -> json(text);
      default -> { }
    }
    return text;
  }

  private static String utf8(byte[] content) {
    String text = io.lodestar.server.http.Json.utf8OrNull(content);
    if (text == null) {
      throw LodestarException.invalid("content", "content is not valid UTF-8 text");
    }
    return text;
  }

  /**
   * java.util.Properties accepts almost anything; what it refuses is a malformed {@code \\uXXXX}
   * escape, without saying where. Loading one logical line at a time finds the line.
   */
  private static void properties(String text) {
    String[] lines = text.split("\r\n|\r|\n", -1);
    StringBuilder logical = new StringBuilder();
    int start = 0;
    for (int i = 0; i < lines.length; i++) {
      if (logical.isEmpty()) {
        start = i;
      }
      String line = lines[i];
      logical.append(line).append('\n');
      String trimmed = line.stripLeading();
      boolean comment = logical.length() == line.length() + 1 && (trimmed.startsWith("#") || trimmed.startsWith("!"));
      if (!comment && endsWithOddBackslashes(line) && i < lines.length - 1) {
        continue;  // a continuation: the next line belongs to this entry
      }
      try {
        new Properties().load(new StringReader(logical.toString()));
      } catch (IllegalArgumentException | IOException e) {
        throw LodestarException.invalid("content", "invalid properties at line " + (start + 1) + ": "
            + e.getMessage());
      }
      logical.setLength(0);
    }
  }

  private static boolean endsWithOddBackslashes(String line) {
    int n = 0;
    for (int i = line.length() - 1; i >= 0 && line.charAt(i) == '\\'; i--) {
      n++;
    }
    return n % 2 == 1;
  }

  private static void yaml(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    try {
      for (Object ignored : new Yaml(new SafeConstructor(options)).loadAll(text)) {
        // parsing every document is the check
      }
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String where = m == null ? "" : " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1);
      String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
      throw LodestarException.invalid("content", "invalid yaml" + where + ": " + problem);
    } catch (YAMLException e) {
      throw LodestarException.invalid("content", "invalid yaml: " + e.getMessage());
    }
  }

  private static void json(String text) {
    try {
      JsonNode n = JSON.readTree(text);
      if (n == null || n.isMissingNode()) {
        throw LodestarException.invalid("content", "invalid json at line 1: no value");
      }
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw LodestarException.invalid("content", "invalid json" + where + ": " + e.getOriginalMessage());
    }
  }
}
