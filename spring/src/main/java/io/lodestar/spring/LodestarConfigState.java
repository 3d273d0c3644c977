package io.lodestar.spring;

import io.lodestar.client.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.boot.env.PropertiesPropertySourceLoader;
import org.springframework.boot.env.PropertySourceLoader;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ByteArrayResource;

/**
 * What the application holds of each imported config: the version and the parsed property sources
 * it last loaded successfully. Shared by the loader (which runs for every import on every refresh,
 * more than once per refresh) and the refresher (which compares pushed versions against it).
 *
 * <p>Loading an unchanged version returns the parsed sources as they are, so a refresh costs a map
 * lookup per import. A version that does not parse never replaces the last good one: the loader
 * keeps serving what it had, with a WARN naming the config and the parser's message.
 */
public final class LodestarConfigState {
  private static final Log log = LogFactory.getLog(LodestarConfigState.class);
  private static final PropertySourceLoader PROPERTIES = new PropertiesPropertySourceLoader();
  private static final PropertySourceLoader YAML = new YamlPropertySourceLoader();

  /** A parsed version. {@code version} is the one last offered, good or not, so a bad one is not parsed again. */
  record Loaded(long version, String hash, List<PropertySource<?>> sources, long offered) {}

  private final Map<LodestarConfigDataResource, Loaded> loaded = new ConcurrentHashMap<>();
  private final Set<LodestarConfigDataResource> imported = ConcurrentHashMap.newKeySet();

  /** The imports seen so far (the refresher watches each). */
  Set<LodestarConfigDataResource> imported() {
    return Set.copyOf(imported);
  }

  /** Whether a pushed version differs from what the application last loaded or tried. */
  boolean isNew(LodestarConfigDataResource r, Config c) {
    Loaded l = loaded.get(r);
    if (l == null) {
      return c.exists();
    }
    return !c.exists() || c.version() != l.offered();
  }

  /** The last good sources, or null. */
  List<PropertySource<?>> lastGood(LodestarConfigDataResource r) {
    Loaded l = loaded.get(r);
    return l == null ? null : l.sources();
  }

  /**
   * An import with nothing to load (missing, or unreachable at start): still watched, so that the
   * config's first version triggers a refresh that brings it in.
   */
  void missing(LodestarConfigDataResource r) {
    imported.add(r);
    loaded.remove(r);
  }

  /**
   * The property sources of a config version: cached when this version was parsed already; the
   * last good ones when it does not parse; an {@link IllegalStateException} when it does not parse
   * and nothing was good before.
   */
  List<PropertySource<?>> sources(LodestarConfigDataResource r, Config c) {
    imported.add(r);
    Loaded l = loaded.get(r);
    if (l != null && l.offered() == c.version() && c.hash().equals(l.hash())) {
      return l.sources();
    }
    try {
      List<PropertySource<?>> parsed = parse(r, c);
      loaded.put(r, new Loaded(c.version(), c.hash(), parsed, c.version()));
      return parsed;
    } catch (IOException | RuntimeException e) {
      if (l == null) {
        throw new IllegalStateException("lodestar config " + r.key() + " version " + c.version()
            + " does not parse as " + c.format() + ": " + e.getMessage(), e);
      }
      log.warn("lodestar config " + r.key() + " version " + c.version() + " does not parse as " + c.format()
          + " (" + e.getMessage() + "); keeping version " + l.version());
      loaded.put(r, new Loaded(l.version(), c.hash(), l.sources(), c.version()));
      return l.sources();
    }
  }

  private static List<PropertySource<?>> parse(LodestarConfigDataResource r, Config c) throws IOException {
    ByteArrayResource bytes = new ByteArrayResource(c.content().getBytes(StandardCharsets.UTF_8), r.toString());
    return loaderFor(c.format(), r.name()).load(r.toString(), bytes);
  }

  /** By the config's declared format; a {@code text} config by its name's extension. */
  static PropertySourceLoader loaderFor(String format, String name) {
    String f = format == null ? "" : format.toLowerCase(Locale.ROOT);
    if (f.isEmpty() || f.equals("text")) {
      String n = name.toLowerCase(Locale.ROOT);
      f = n.endsWith(".properties") ? "properties"
          : n.endsWith(".yaml") || n.endsWith(".yml") ? "yaml" : n.endsWith(".json") ? "json" : "";
    }
    return switch (f) {
      case "properties" -> PROPERTIES;
      case "yaml", "json" -> YAML;  // JSON is YAML
      default -> throw new IllegalArgumentException("format '" + format + "' of " + name
          + " holds no properties (use properties, yaml or json)");
    };
  }
}
