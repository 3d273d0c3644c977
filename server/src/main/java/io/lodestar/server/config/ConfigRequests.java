package io.lodestar.server.config;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigFormat;
import io.lodestar.api.v1.state.PublishConfig;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.core.naming.Registry;
import java.util.Optional;

/**
 * Turns REST input into config commands: checks names, size and format, and encrypts secret
 * content, all before anything is logged. Shared by the config and gray endpoints.
 */
final class ConfigRequests {
  static final String ANONYMOUS = "anonymous";

  private final Registry registry;
  private final ConfigStore store;
  private final SecretBox secrets;

  ConfigRequests(Registry registry, ConfigStore store, SecretBox secrets) {
    this.registry = registry;
    this.store = store;
    this.secrets = secrets;
  }

  /** The key, once its parts are valid and the namespace exists (else 404). */
  ConfigKey key(String ns, String group, String name) {
    ConfigKey key = ConfigKey.of(ns, group, name);
    namespace(ns);
    return key;
  }

  void namespace(String ns) {
    Validation.name("namespace", ns);
    if (registry.namespace(ns) == null) {
      throw LodestarException.notFound("namespace " + ns + " does not exist");
    }
  }

  /** The live config, else 404. */
  ConfigView require(ConfigKey key) {
    ConfigView v = store.view(key);
    if (v == null) {
      throw LodestarException.notFound("config " + key + " does not exist");
    }
    return v;
  }

  /**
   * A publish of raw content. The format is the one given, else the config's current one, else
   * guessed from the name; a config stays secret once it is.
   */
  PublishConfig.Builder publish(ConfigKey key, byte[] content, Optional<String> format, Optional<String> secret,
      Optional<String> comment, Optional<String> keep, Optional<String> author) {
    if (content.length > ConfigStore.MAX_CONTENT_BYTES) {
      throw new LodestarException(LodestarException.Code.TOO_LARGE,
          "content is " + content.length + " bytes; the limit is " + ConfigStore.MAX_CONTENT_BYTES, "body");
    }
    ConfigView current = store.view(key);
    ConfigFormat f = format.map(ConfigFormats::parse).orElseGet(() -> current != null
        ? current.released().getFormat() : ConfigFormats.guess(key.name()));
    ConfigFormats.validate(f, content);
    boolean isSecret = secret.map(s -> bool("secret", s)).orElse(current != null && current.secret());
    PublishConfig.Builder p = PublishConfig.newBuilder().setNamespace(key.namespace()).setGroup(key.group())
        .setName(key.name()).setFormat(f).setSecret(isSecret).setSize(content.length)
        .setHash(secrets.hash(isSecret, content))
        .setContent(isSecret ? secrets.encrypt(key, content) : ByteString.copyFrom(content))
        .setComment(comment.orElse("")).setAuthor(author.orElse(ANONYMOUS));
    keep.ifPresent(k -> p.setHistoryLimit(keep(k)));
    return p;
  }

  /** {@code If-Match: 3} or {@code "3"}: the version the write expects to replace. */
  static Optional<Long> ifMatch(Optional<String> header) {
    return header.map(h -> {
      String v = h.strip();
      if (v.startsWith("W/")) {
        v = v.substring(2);
      }
      if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
        v = v.substring(1, v.length() - 1);
      }
      try {
        long n = Long.parseLong(v);
        if (n < 0) {
          throw new NumberFormatException();
        }
        return n;
      } catch (NumberFormatException e) {
        throw LodestarException.invalid("If-Match", "If-Match must be a version number, got '" + h + "'");
      }
    });
  }

  static boolean bool(String field, String v) {
    return switch (v) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default -> throw LodestarException.invalid(field, field + " must be true or false");
    };
  }

  static long number(String field, String v) {
    return io.lodestar.server.http.QueryParams.number(field, v);
  }

  private static int keep(String v) {
    long n = number("keep", v);
    if (n < 1 || n > ConfigStore.MAX_HISTORY_LIMIT) {
      throw LodestarException.invalid("keep", "keep must be within 1–" + ConfigStore.MAX_HISTORY_LIMIT);
    }
    return (int) n;
  }
}
