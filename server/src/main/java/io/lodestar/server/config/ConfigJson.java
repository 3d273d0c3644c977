package io.lodestar.server.config;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.GraySelector;
import io.lodestar.core.config.ConfigView;
import io.lodestar.server.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.TreeMap;

/** The REST API's JSON form of configs. Secret content never appears: previews are masked. */
final class ConfigJson {
  static final String MASK = "******";
  static final int PREVIEW_CHARS = 80;

  private ConfigJson() {}

  /** One line of a listing. */
  static ObjectNode summary(ConfigView v) {
    ConfigVersion r = v.released();
    ObjectNode o = Json.object();
    o.put("group", v.key().group());
    o.put("name", v.key().name());
    o.put("format", ConfigFormats.name(r.getFormat()));
    o.put("version", r.getVersion());
    o.put("secret", v.secret());
    o.put("size", r.getSize());
    o.put("hash", r.getHash());
    o.put("preview", preview(v, r));
    o.put("updatedAt", time(r.getCreatedAtMs()));
    o.put("gray", v.grayActive());
    if (v.grayActive()) {
      o.put("candidateVersion", v.candidate().getVersion());
    }
    return o;
  }

  /** The whole history, newest first, with the release and any candidate marked. */
  static ObjectNode history(ConfigView v) {
    ObjectNode o = Json.object();
    o.put("namespace", v.key().namespace());
    o.put("group", v.key().group());
    o.put("name", v.key().name());
    o.put("secret", v.secret());
    o.put("releasedVersion", v.released().getVersion());
    if (v.grayActive()) {
      o.put("candidateVersion", v.candidate().getVersion());
    }
    o.put("keep", v.historyLimit());
    o.put("createdAt", time(v.createdAtMs()));
    ArrayNode arr = o.putArray("versions");
    List<ConfigVersion> h = v.history();
    for (int i = h.size() - 1; i >= 0; i--) {
      arr.add(version(v, h.get(i)));
    }
    return o;
  }

  static ObjectNode version(ConfigView view, ConfigVersion c) {
    ObjectNode o = Json.object();
    o.put("version", c.getVersion());
    o.put("author", c.getAuthor());
    o.put("comment", c.getComment());
    o.put("time", time(c.getCreatedAtMs()));
    o.put("hash", c.getHash());
    o.put("format", ConfigFormats.name(c.getFormat()));
    o.put("size", c.getSize());
    o.put("preview", preview(view, c));
    if (c.getRollbackOf() != 0) {
      o.put("rollbackOf", c.getRollbackOf());
    }
    String state = c.getVersion() == view.released().getVersion() ? "released"
        : view.grayActive() && c.getVersion() == view.candidate().getVersion() ? "candidate" : null;
    if (state != null) {
      o.put("state", state);
    }
    return o;
  }

  static ObjectNode selector(GraySelector s) {
    ObjectNode o = Json.object();
    ObjectNode labels = o.putObject("labels");
    new TreeMap<>(s.getLabelsMap()).forEach(labels::put);
    ArrayNode a = o.putArray("addresses");
    s.getAddressesList().forEach(a::add);
    o.put("percent", s.getPercent());
    return o;
  }

  static ObjectNode holder(ConfigClients.Holder h) {
    ObjectNode o = Json.object();
    o.put("clientId", h.clientId());
    o.put("address", h.address());
    o.put("version", h.version());
    o.put("gray", h.gray());
    o.put("via", h.via());
    o.put("seenAt", time(h.atMs()));
    return o;
  }

  /** The start of a non-secret content, one line; secrets are masked. */
  private static String preview(ConfigView v, ConfigVersion c) {
    if (v.secret()) {
      return MASK;
    }
    int n = Math.min(c.getContent().size(), PREVIEW_CHARS * 4);
    String s = new String(c.getContent().substring(0, n).toByteArray(), StandardCharsets.UTF_8);
    s = s.replaceAll("\\s+", " ").strip();
    return s.length() > PREVIEW_CHARS ? s.substring(0, PREVIEW_CHARS) + "…" : s;
  }

  static String time(long ms) {
    return Instant.ofEpochMilli(ms).toString();
  }
}
