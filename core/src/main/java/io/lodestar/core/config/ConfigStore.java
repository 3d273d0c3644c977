package io.lodestar.core.config;

import io.lodestar.api.v1.ConfigFormat;
import io.lodestar.api.v1.ConfigState;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.GraySelector;
import io.lodestar.api.v1.state.AbortConfigGray;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.ConfigSnapshot;
import io.lodestar.api.v1.state.DeleteConfig;
import io.lodestar.api.v1.state.PromoteConfigGray;
import io.lodestar.api.v1.state.PublishConfig;
import io.lodestar.api.v1.state.RollbackConfig;
import io.lodestar.core.LodestarException;
import io.lodestar.core.LodestarException.Code;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * The config centre's state machine: configs, their kept versions and gray releases.
 *
 * <p>Threading: {@link #apply} and {@link #flush} run on one thread at a time (the log's applier);
 * every other method may be called from any thread and reads immutable {@link ConfigView}s
 * published through volatile fields. Apply is deterministic: it never reads a clock (time comes
 * from {@link Command#getTimeMs()}), and a command that fails throws before it mutates anything.
 *
 * <p>Versions: each config counts its own versions from 1, and the count never goes back. A delete
 * takes a version too and leaves a tombstone, so a re-created config continues where it was; an
 * aborted gray release republishes the release as a new version, so that a client that held the
 * candidate moves forward, never back. Content is opaque bytes here: format checks and
 * encryption happen in the server before a command is logged.
 */
public final class ConfigStore {
  public static final int MAX_CONTENT_BYTES = 1 << 20;
  /** AES-GCM adds a version byte, a 12-byte IV and a 16-byte tag to a secret's plaintext. */
  public static final int MAX_STORED_BYTES = MAX_CONTENT_BYTES + 64;
  public static final int DEFAULT_HISTORY_LIMIT = 50;
  public static final int MAX_HISTORY_LIMIT = 1000;
  public static final int MAX_COMMENT = 1024;
  public static final int MAX_AUTHOR = 128;

  private final Predicate<String> namespaceExists;
  private final Map<ConfigKey, State> configs = new ConcurrentHashMap<>();
  private final Set<State> dirty = new LinkedHashSet<>();  // applier thread only
  private final List<ConfigListener> listeners = new CopyOnWriteArrayList<>();
  /** Written on the applier thread, read by any (the secret box asks which key is current). */
  private volatile int secretKeyGeneration;

  /** @param namespaceExists asked on the applier thread whether a namespace exists */
  public ConfigStore(Predicate<String> namespaceExists) {
    this.namespaceExists = namespaceExists;
  }

  public void addListener(ConfigListener listener) {
    listeners.add(listener);
  }

  // ------------------------------------------------------------------ reads (any thread)

  /** The current view of a live config, or null if it does not exist (or was deleted). */
  public ConfigView view(ConfigKey key) {
    State s = configs.get(key);
    ConfigView v = s == null ? null : s.view;
    return v == null || v.deleted() ? null : v;
  }

  /** The view even of a deleted config (its tombstone), or null if it never existed. */
  public ConfigView viewOrTombstone(ConfigKey key) {
    State s = configs.get(key);
    return s == null ? null : s.view;
  }

  /** Live configs of a namespace, optionally of one group, sorted by group and name. */
  public List<ConfigView> views(String namespace, String group) {
    List<ConfigView> out = new ArrayList<>();
    for (State s : configs.values()) {
      ConfigView v = s.view;
      if (v != null && !v.deleted() && s.key.namespace().equals(namespace)
          && (group == null || s.key.group().equals(group))) {
        out.add(v);
      }
    }
    out.sort((a, b) -> a.key().compareTo(b.key()));
    return out;
  }

  /** Whether a namespace holds any live config. */
  public boolean hasConfigs(String namespace) {
    for (State s : configs.values()) {
      if (!s.deleted && s.key.namespace().equals(namespace)) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ validation (any thread)

  /** Stateless checks, before a command is logged. State-dependent ones happen in {@link #apply}. */
  public static void validate(Command cmd) {
    switch (cmd.getKindCase()) {
      case PUBLISH_CONFIG -> {
        PublishConfig p = cmd.getPublishConfig();
        ConfigKey.of(p.getNamespace(), p.getGroup(), p.getName());
        if (p.getFormat() == ConfigFormat.UNRECOGNIZED) {
          throw LodestarException.invalid("format", "unknown format");
        }
        if (p.getSize() > MAX_CONTENT_BYTES || p.getContent().size() > MAX_STORED_BYTES) {
          throw new LodestarException(Code.TOO_LARGE, "content is larger than " + MAX_CONTENT_BYTES + " bytes",
              "content");
        }
        if (p.getHash().isEmpty()) {
          throw LodestarException.invalid("hash", "hash is required");
        }
        if (p.getHistoryLimit() > MAX_HISTORY_LIMIT) {
          throw LodestarException.invalid("keep", "keep must be within 1–" + MAX_HISTORY_LIMIT);
        }
        if (p.hasGray()) {
          GrayRule.validate(p.getGray());
        }
        text("author", p.getAuthor(), MAX_AUTHOR);
        text("comment", p.getComment(), MAX_COMMENT);
      }
      case DELETE_CONFIG -> {
        DeleteConfig d = cmd.getDeleteConfig();
        ConfigKey.of(d.getNamespace(), d.getGroup(), d.getName());
      }
      case ROLLBACK_CONFIG -> {
        RollbackConfig r = cmd.getRollbackConfig();
        ConfigKey.of(r.getNamespace(), r.getGroup(), r.getName());
        if (r.getToVersion() < 1) {
          throw LodestarException.invalid("toVersion", "toVersion must be a version number (1 or more)");
        }
        text("author", r.getAuthor(), MAX_AUTHOR);
        text("comment", r.getComment(), MAX_COMMENT);
      }
      case PROMOTE_CONFIG_GRAY -> {
        PromoteConfigGray p = cmd.getPromoteConfigGray();
        ConfigKey.of(p.getNamespace(), p.getGroup(), p.getName());
        text("author", p.getAuthor(), MAX_AUTHOR);
      }
      case ABORT_CONFIG_GRAY -> {
        AbortConfigGray a = cmd.getAbortConfigGray();
        ConfigKey.of(a.getNamespace(), a.getGroup(), a.getName());
        text("author", a.getAuthor(), MAX_AUTHOR);
      }
      case REENCRYPT_SECRET -> {
        var r = cmd.getReencryptSecret();
        ConfigKey.of(r.getNamespace(), r.getGroup(), r.getName());
        for (var v : r.getVersionsList()) {
          if (v.getContent().size() > MAX_STORED_BYTES || v.getHash().isEmpty()) {
            throw LodestarException.invalid("versions", "a re-encrypted version needs content within "
                + MAX_STORED_BYTES + " bytes and a hash");
          }
        }
      }
      case ROTATE_SECRET_KEY -> {
        if (cmd.getRotateSecretKey().getGeneration() < 1) {
          throw LodestarException.invalid("generation", "a secret key generation is at least 1");
        }
      }
      default -> throw LodestarException.invalid("kind", "not a config command: " + cmd.getKindCase());
    }
  }

  /** Whether this store owns the command. */
  public static boolean handles(Command cmd) {
    return switch (cmd.getKindCase()) {
      case PUBLISH_CONFIG, DELETE_CONFIG, ROLLBACK_CONFIG, PROMOTE_CONFIG_GRAY, ABORT_CONFIG_GRAY, REENCRYPT_SECRET,
          ROTATE_SECRET_KEY -> true;
      default -> false;
    };
  }

  private static void text(String field, String value, int max) {
    if (value.length() > max) {
      throw LodestarException.invalid(field, field + " must have at most " + max + " characters");
    }
  }

  // ------------------------------------------------------------------ apply (applier thread)

  /** Applies one config command. Deterministic; throws before mutating anything. */
  public CommandResult apply(Command cmd) {
    validate(cmd);
    if (cmd.hasRotateSecretKey()) {
      return rotateKey(cmd.getRotateSecretKey().getGeneration());
    }
    long now = cmd.getTimeMs();
    ConfigVersion v = switch (cmd.getKindCase()) {
      case PUBLISH_CONFIG -> publish(cmd.getPublishConfig(), now);
      case DELETE_CONFIG -> delete(cmd.getDeleteConfig());
      case ROLLBACK_CONFIG -> rollback(cmd.getRollbackConfig(), now);
      case PROMOTE_CONFIG_GRAY -> promote(cmd.getPromoteConfigGray());
      case ABORT_CONFIG_GRAY -> abort(cmd.getAbortConfigGray(), now);
      case REENCRYPT_SECRET -> reencrypt(cmd.getReencryptSecret());
      default -> throw LodestarException.invalid("kind", "not a config command: " + cmd.getKindCase());
    };
    return CommandResult.newBuilder().setConfigVersion(v.toBuilder().clearContent()).build();
  }

  private ConfigVersion publish(PublishConfig p, long now) {
    ConfigKey key = new ConfigKey(p.getNamespace(), p.getGroup(), p.getName());
    requireNamespace(key.namespace());
    State s = configs.get(key);
    boolean live = s != null && !s.deleted;
    checkVersion(live ? s.version : 0, p.hasIfVersion(), p.getIfVersion());
    if (live && s.secret != p.getSecret()) {
      throw new LodestarException(Code.FAILED_PRECONDITION, "config " + key + " is " + (s.secret ? "" : "not ")
          + "secret; delete and re-create it to change that", "secret");
    }
    if (live && s.candidate != 0) {
      throw grayInProgress(s);
    }
    if (!live && p.hasGray()) {
      throw new LodestarException(Code.FAILED_PRECONDITION,
          "config " + key + " has no release yet; a gray release needs one to fall back to", "gray");
    }
    if (s == null) {
      s = new State(key);
      configs.put(key, s);
    }
    if (!live) {
      s.deleted = false;
      s.secret = p.getSecret();
      s.createdAtMs = now;
      s.historyLimit = DEFAULT_HISTORY_LIMIT;
    }
    if (p.getHistoryLimit() != 0) {
      s.historyLimit = p.getHistoryLimit();
    }
    ConfigVersion v = ConfigVersion.newBuilder().setVersion(s.version + 1).setContent(p.getContent())
        .setHash(p.getHash()).setAuthor(p.getAuthor()).setComment(p.getComment()).setCreatedAtMs(now)
        .setFormat(p.getFormat()).setSize(p.getSize()).build();
    if (p.hasGray()) {
      s.candidate = v.getVersion();
      s.selector = p.getGray();
      s.grayAuthor = p.getAuthor();
      s.grayStartedAtMs = now;
    } else {
      s.released = v.getVersion();
    }
    append(s, v);
    return v;
  }

  private ConfigVersion delete(DeleteConfig d) {
    State s = requireLive(new ConfigKey(d.getNamespace(), d.getGroup(), d.getName()));
    checkVersion(s.version, d.hasIfVersion(), d.getIfVersion());
    s.deleted = true;
    s.version++;
    s.history.clear();
    s.released = 0;
    clearGray(s);
    dirty.add(s);
    return ConfigVersion.newBuilder().setVersion(s.version).build();
  }

  private ConfigVersion rollback(RollbackConfig r, long now) {
    State s = requireLive(new ConfigKey(r.getNamespace(), r.getGroup(), r.getName()));
    checkVersion(s.version, r.hasIfVersion(), r.getIfVersion());
    if (s.candidate != 0) {
      throw grayInProgress(s);
    }
    ConfigVersion old = s.find(r.getToVersion());
    if (old == null) {
      throw new LodestarException(Code.NOT_FOUND, "version " + r.getToVersion() + " of " + s.key
          + " is not kept (the history keeps the last " + s.historyLimit + ")", "toVersion");
    }
    String comment = r.getComment().isEmpty() ? "rollback to version " + old.getVersion() : r.getComment();
    ConfigVersion v = republish(s, old, r.getAuthor(), comment, now);
    s.released = v.getVersion();
    append(s, v);
    return v;
  }

  private ConfigVersion promote(PromoteConfigGray p) {
    State s = requireGray(new ConfigKey(p.getNamespace(), p.getGroup(), p.getName()));
    ConfigVersion v = s.find(s.candidate);
    s.released = s.candidate;
    clearGray(s);
    dirty.add(s);
    return v;
  }

  private ConfigVersion abort(AbortConfigGray a, long now) {
    State s = requireGray(new ConfigKey(a.getNamespace(), a.getGroup(), a.getName()));
    ConfigVersion release = s.find(s.released);
    ConfigVersion v = republish(s, release, a.getAuthor(),
        "gray release of version " + s.candidate + " aborted", now);
    clearGray(s);
    s.released = v.getVersion();
    append(s, v);
    return v;
  }

  private static ConfigVersion republish(State s, ConfigVersion old, String author, String comment, long now) {
    return old.toBuilder().setVersion(s.version + 1).setAuthor(author).setComment(comment).setCreatedAtMs(now)
        .setRollbackOf(old.getVersion()).build();
  }

  private void append(State s, ConfigVersion v) {
    s.version = v.getVersion();
    s.history.add(v);
    // Drop the oldest versions beyond the limit, but never the release or the candidate.
    for (int i = 0; s.history.size() > s.historyLimit && i < s.history.size(); ) {
      long n = s.history.get(i).getVersion();
      if (n == s.released || n == s.candidate) {
        i++;
      } else {
        s.history.remove(i);
      }
    }
    dirty.add(s);
  }

  private static void clearGray(State s) {
    s.candidate = 0;
    s.selector = null;
    s.grayAuthor = "";
    s.grayStartedAtMs = 0;
  }

  private static void checkVersion(long current, boolean has, long expected) {
    if (has && expected != current) {
      throw new LodestarException(Code.CONFLICT, current == 0
          ? "version mismatch: expected " + expected + " but the config does not exist"
          : "version mismatch: expected " + expected + " but the latest is " + current, "If-Match");
    }
  }

  private static LodestarException grayInProgress(State s) {
    return new LodestarException(Code.CONFLICT, "config " + s.key + " has gray release of version " + s.candidate
        + " in progress; promote or abort it first", "gray");
  }

  private void requireNamespace(String ns) {
    if (!namespaceExists.test(ns)) {
      throw LodestarException.notFound("namespace " + ns + " does not exist");
    }
  }

  private State requireLive(ConfigKey key) {
    requireNamespace(key.namespace());
    State s = configs.get(key);
    if (s == null || s.deleted) {
      throw LodestarException.notFound("config " + key + " does not exist");
    }
    return s;
  }

  private State requireGray(ConfigKey key) {
    State s = requireLive(key);
    if (s.candidate == 0) {
      throw new LodestarException(Code.FAILED_PRECONDITION, "config " + key + " has no gray release in progress",
          "gray");
    }
    return s;
  }

  /** Replaces the stored content and hash of kept versions of a secret config; nothing else moves. */
  private ConfigVersion reencrypt(io.lodestar.api.v1.state.ReencryptSecret r) {
    ConfigKey key = ConfigKey.of(r.getNamespace(), r.getGroup(), r.getName());
    State s = configs.get(key);
    if (s == null || s.deleted) {
      throw LodestarException.notFound("config " + key + " does not exist");
    }
    if (!s.secret) {
      throw new LodestarException(Code.FAILED_PRECONDITION, "config " + key + " is not secret", "secret");
    }
    for (var v : r.getVersionsList()) {
      for (int i = 0; i < s.history.size(); i++) {
        ConfigVersion old = s.history.get(i);
        if (old.getVersion() == v.getVersion()) {
          s.history.set(i, old.toBuilder().setContent(v.getContent()).setHash(v.getHash()).build());
        }
      }
    }
    dirty.add(s);
    ConfigVersion released = s.find(s.released);
    return released != null ? released : ConfigVersion.getDefaultInstance();
  }

  // ------------------------------------------------------------------ batch end (applier thread)

  /** Publishes new views of the configs changed since the last flush and tells listeners. */
  public void flush() {
    if (dirty.isEmpty()) {
      return;
    }
    List<State> changed = new ArrayList<>(dirty);
    dirty.clear();
    for (State s : changed) {
      s.view = s.toView();
      for (ConfigListener l : listeners) {
        l.onConfigChanged(s.view);
      }
    }
  }

  /**
   * The generation of the cluster's secret-config key: 0 until the first {@code RotateSecretKey}.
   * Only the number is state; each member derives the key itself (docs/security.md).
   */
  public int secretKeyGeneration() {
    return secretKeyGeneration;
  }

  private CommandResult rotateKey(int generation) {
    if (generation != secretKeyGeneration + 1) {
      throw new LodestarException(LodestarException.Code.CONFLICT, "secret key generation " + generation
          + " does not follow the current one (" + secretKeyGeneration + "): another rotation came first", "generation");
    }
    secretKeyGeneration = generation;
    return CommandResult.getDefaultInstance();
  }

  // ------------------------------------------------------------------ snapshots

  /** The whole state, sorted by key. Call on the applier thread. */
  public ConfigSnapshot snapshot() {
    List<State> sorted = new ArrayList<>(configs.values());
    sorted.sort((a, b) -> a.key.compareTo(b.key));
    ConfigSnapshot.Builder b = ConfigSnapshot.newBuilder().setSecretKeyGeneration(secretKeyGeneration);
    for (State s : sorted) {
      ConfigState.Builder c = ConfigState.newBuilder().setNamespace(s.key.namespace()).setGroup(s.key.group())
          .setName(s.key.name()).setSecret(s.secret).setHistoryLimit(s.historyLimit).setVersion(s.version)
          .setReleasedVersion(s.released).setCandidateVersion(s.candidate).addAllHistory(s.history)
          .setCreatedAtMs(s.createdAtMs).setDeleted(s.deleted).setGrayAuthor(s.grayAuthor)
          .setGrayStartedAtMs(s.grayStartedAtMs);
      if (s.selector != null) {
        c.setSelector(s.selector);
      }
      b.addConfigs(c);
    }
    return b.build();
  }

  /** Replaces the whole state; listeners then hear of every config, old and new. */
  public void restore(ConfigSnapshot snap) {
    for (State s : configs.values()) {
      s.deleted = true;  // gone unless the snapshot has it
      s.history.clear();
      dirty.add(s);
    }
    Map<ConfigKey, State> old = Map.copyOf(configs);
    configs.clear();
    secretKeyGeneration = snap.getSecretKeyGeneration();
    for (ConfigState c : snap.getConfigsList()) {
      ConfigKey key = new ConfigKey(c.getNamespace(), c.getGroup(), c.getName());
      State s = new State(key);
      s.secret = c.getSecret();
      s.historyLimit = c.getHistoryLimit();
      s.version = c.getVersion();
      s.released = c.getReleasedVersion();
      s.candidate = c.getCandidateVersion();
      s.selector = c.getCandidateVersion() != 0 ? c.getSelector() : null;
      s.grayAuthor = c.getGrayAuthor();
      s.grayStartedAtMs = c.getGrayStartedAtMs();
      s.history.addAll(c.getHistoryList());
      s.createdAtMs = c.getCreatedAtMs();
      s.deleted = c.getDeleted();
      configs.put(key, s);
      State was = old.get(key);
      if (was != null) {
        dirty.remove(was);
      }
      dirty.add(s);
    }
    flush();
  }

  /** Mutable per-config state, touched by the applier thread only. */
  private static final class State {
    final ConfigKey key;
    final List<ConfigVersion> history = new ArrayList<>();
    boolean secret;
    boolean deleted;
    int historyLimit = DEFAULT_HISTORY_LIMIT;
    long version;
    long released;
    long candidate;
    GraySelector selector;
    String grayAuthor = "";
    long grayStartedAtMs;
    long createdAtMs;
    volatile ConfigView view;

    State(ConfigKey key) {
      this.key = key;
    }

    ConfigVersion find(long v) {
      for (ConfigVersion c : history) {
        if (c.getVersion() == v) {
          return c;
        }
      }
      return null;
    }

    ConfigView toView() {
      return new ConfigView(key, deleted, secret, version, deleted ? null : find(released),
          candidate == 0 ? null : find(candidate), selector, grayAuthor, grayStartedAtMs, history, historyLimit,
          createdAtMs);
    }
  }
}
