package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.KvDelete;
import io.lodestar.api.v1.state.KvEntry;
import io.lodestar.api.v1.state.KvPut;
import io.lodestar.core.LodestarException;
import io.lodestar.core.kv.KvStore;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.LongPolls;
import io.lodestar.server.http.Routes;
import io.lodestar.server.storage.CommandLog;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Consul's KV API on Lodestar's key/value store ({@link KvStore}): reads with {@code recurse},
 * {@code keys}, {@code separator}, {@code raw} and blocking; writes with {@code cas} and
 * {@code flags}, answered {@code true}/{@code false} once on disk (and, in a cluster, committed).
 */
final class ConsulKvService implements Routes.Owner {
  private final KvStore kv;
  private final CommandLog commandLog;
  final LongPolls<String> polls;

  ConsulKvService(KvStore kv, CommandLog commandLog, Executor notifier) {
    this.kv = kv;
    this.commandLog = commandLog;
    this.polls = new LongPolls<>(notifier);
    kv.addListener(polls::wake);
  }

  @Override
  public void bind(Routes routes) {
    routes.get("prefix:/v1/kv/", "get", c -> get(c.ctx()));
    routes.put("prefix:/v1/kv/", "put", c -> put(c.ctx(), c.request()));
    routes.delete("prefix:/v1/kv/", "delete", c -> delete(c.ctx()));
  }

  public HttpResponse get(ServiceRequestContext ctx) {
    String ns = ConsulQuery.namespace(ctx);
    String key = key(ctx);
    boolean keys = ctx.queryParam("keys") != null;
    boolean recurse = keys || ConsulQuery.flag(ctx, "recurse");
    String separator = ctx.queryParam("separator");
    boolean raw = ConsulQuery.flag(ctx, "raw");
    KvStore.key(key, recurse);
    if (ctx.queryParam("history") != null && !recurse) {
      return history(ns, key);
    }
    CompletableFuture<Void> ready = Blocking.await(ctx, polls, ns, () -> kv.indexOf(ns, key, !recurse),
        ConsulQuery.index(ctx));
    return HttpResponse.of(ready.thenApply(v -> {
      long index = kv.indexOf(ns, key, !recurse);
      if (!recurse) {
        KvEntry e = kv.get(ns, key);
        if (e == null) {
          return ConsulResponses.notFound(index);
        }
        if (raw) {
          return ConsulResponses.raw(e.getValue().toByteArray(), index);
        }
        return ConsulResponses.json(Json.MAPPER.createArrayNode().add(entry(e)), index);
      }
      List<KvEntry> entries = kv.list(ns, key);
      if (entries.isEmpty()) {
        return ConsulResponses.notFound(index);
      }
      ArrayNode out = Json.MAPPER.createArrayNode();
      if (keys) {
        Set<String> names = new LinkedHashSet<>();
        for (KvEntry e : entries) {
          String k = e.getKey();
          int cut = separator == null || separator.isEmpty() ? -1 : k.indexOf(separator, key.length());
          names.add(cut < 0 ? k : k.substring(0, cut + separator.length()));
        }
        names.forEach(out::add);
      } else {
        entries.forEach(e -> out.add(entry(e)));
      }
      return ConsulResponses.json(out, index);
    }));
  }

  public CompletableFuture<HttpResponse> put(ServiceRequestContext ctx, AggregatedHttpRequest req) {
    if (ctx.queryParam("acquire") != null || ctx.queryParam("release") != null) {
      throw LodestarException.invalid("acquire", "Sessions are not supported: acquire and release are not available");
    }
    KvPut.Builder p = KvPut.newBuilder().setNamespace(ConsulQuery.namespace(ctx)).setKey(KvStore.key(key(ctx), false));
    if (req.content().length() > KvStore.MAX_VALUE_BYTES) {
      throw new LodestarException(LodestarException.Code.TOO_LARGE, "Value exceeds " + KvStore.MAX_VALUE_BYTES
          + " byte limit", "value");
    }
    p.setValue(ByteString.copyFrom(req.content().array()));
    String flags = ctx.queryParam("flags");
    if (flags != null && !flags.isEmpty()) {
      p.setFlags(unsigned("flags", flags));
    }
    String cas = ctx.queryParam("cas");
    if (cas != null && !cas.isEmpty()) {
      p.setCas(unsigned("cas", cas));
    }
    return commandLog.submit(Command.newBuilder().setKvPut(p).build())
        .thenApply(r -> ConsulResponses.bool(r.getKv().getOk()));
  }

  public CompletableFuture<HttpResponse> delete(ServiceRequestContext ctx) {
    boolean recurse = ConsulQuery.flag(ctx, "recurse");
    KvDelete.Builder d = KvDelete.newBuilder().setNamespace(ConsulQuery.namespace(ctx))
        .setKey(KvStore.key(key(ctx), recurse)).setRecurse(recurse);
    String cas = ctx.queryParam("cas");
    if (cas != null && !cas.isEmpty()) {
      d.setCas(unsigned("cas", cas));
    }
    return commandLog.submit(Command.newBuilder().setKvDelete(d).build())
        .thenApply(r -> ConsulResponses.bool(r.getKv().getOk()));
  }

  /**
   * Lodestar's extension, {@code ?history}: the key's current value (if it has one) and its kept
   * earlier values, newest first; a deleted key's values too. 404 when nothing is kept.
   */
  private HttpResponse history(String ns, String key) {
    KvEntry e = kv.withHistory(ns, key);
    long index = kv.indexOf(ns, key, true);
    if (e == null || (e.getDeleted() && e.getHistoryCount() == 0)) {
      return ConsulResponses.notFound(index);
    }
    ArrayNode out = Json.MAPPER.createArrayNode();
    if (!e.getDeleted()) {
      out.add(entry(e));
    }
    e.getHistoryList().forEach(h -> out.add(entry(h)));
    return ConsulResponses.json(out, index);
  }

  private static ObjectNode entry(KvEntry e) {
    ObjectNode o = Json.object();
    o.put("LockIndex", 0);
    o.put("Key", e.getKey());
    // uint64, as Consul answers it: a Go client cannot decode a negative number into its uint64
    long flags = e.getFlags();
    if (flags >= 0) {
      o.put("Flags", flags);
    } else {
      o.put("Flags", new java.math.BigInteger(Long.toUnsignedString(flags)));
    }
    if (e.getValue().isEmpty()) {
      o.putNull("Value");
    } else {
      o.put("Value", Base64.getEncoder().encodeToString(e.getValue().toByteArray()));
    }
    o.put("CreateIndex", e.getCreateIndex());
    o.put("ModifyIndex", e.getModifyIndex());
    return o;
  }

  /**
   * The key: the path after {@code /v1/kv/} as received, every escape decoded as Consul decodes it.
   * The context's own path keeps {@code %2F} encoded and drops a {@code ;} and what follows it, so
   * {@code a%2Fb} was stored as that text and {@code semi;x=1} as {@code semi}.
   */
  static String key(ServiceRequestContext ctx) {
    String raw = ctx.routingContext().requestTarget().rawPath();
    int query = raw.indexOf('?');
    raw = query < 0 ? raw : raw.substring(0, query);
    if (!raw.startsWith(PREFIX)) {
      String k = ctx.decodedMappedPath();
      return k.startsWith("/") ? k.substring(1) : k;
    }
    return decode(raw.substring(PREFIX.length()));
  }

  private static final String PREFIX = "/v1/kv/";

  /** Percent-decoding of a path (a '+' is a '+'), refusing an escape that is cut short and bytes that are not UTF-8. */
  static String decode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    byte[] in = s.getBytes(java.nio.charset.StandardCharsets.UTF_8); // ASCII, or UTF-8 a client left unescaped
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      if (in[i] != '%') {
        out.write(in[i]);
        continue;
      }
      int hi = i + 2 < in.length ? Character.digit(in[i + 1], 16) : -1;
      int lo = hi < 0 ? -1 : Character.digit(in[i + 2], 16);
      if (lo < 0) {
        throw LodestarException.invalid("key", "Invalid key: a % not followed by two hex digits");
      }
      out.write(hi * 16 + lo);
      i += 2;
    }
    String key = Json.utf8OrNull(out.toByteArray());
    if (key == null) {
      throw LodestarException.invalid("key", "Invalid key: its escapes are not UTF-8");
    }
    return key;
  }

  private static long unsigned(String field, String v) {
    try {
      return Long.parseUnsignedLong(v);
    } catch (NumberFormatException e) {
      throw LodestarException.invalid(field, "Invalid " + field + ": " + v);
    }
  }
}
