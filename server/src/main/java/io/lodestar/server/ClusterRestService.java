package io.lodestar.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import io.lodestar.core.LodestarException;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import io.lodestar.server.storage.ClusterConfig;
import io.lodestar.server.storage.CommandLog;
import io.lodestar.server.storage.RaftCluster;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * {@code /v1/cluster}: who leads, the term, and each member's role and applied index (asked of
 * the member itself, so a member that does not answer shows as {@code unreachable}); membership
 * changes one node at a time. Also the {@code ?consistent=true} read decorator.
 */
final class ClusterRestService implements Routes.Owner {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterRestService.class);
  private final RaftCluster raft;
  private final Supplier<String> address;
  private final java.nio.file.Path backups;
  private final io.lodestar.server.http.PeerHttp peers;

  private final Runnable snapshot;
  private final java.util.function.LongSupplier localIndex;
  private final io.lodestar.server.storage.FeatureLevels levels;

  /**
   * @param snapshot writes a snapshot of this node's state now (either log)
   * @param localIndex a single node's last logged index (a cluster member reports Raft's)
   */
  /** This node's secret-key id (null without a key): a starting member compares it with its own. */
  private final io.lodestar.server.config.SecretBox secretBox;
  private final io.lodestar.server.storage.CommandLog audit;

  ClusterRestService(RaftCluster raft, Supplier<String> address, java.nio.file.Path backups, Runnable snapshot,
      java.util.function.LongSupplier localIndex, io.lodestar.server.config.SecretBox secretBox,
      io.lodestar.server.storage.CommandLog audit,
      io.lodestar.server.http.PeerHttp peers, io.lodestar.server.storage.FeatureLevels levels) {
    this.peers = peers;
    this.levels = levels;
    this.secretBox = secretBox;
    this.audit = audit;
    this.raft = raft;
    this.address = address;
    this.backups = backups;
    this.snapshot = snapshot;
    this.localIndex = localIndex;
  }

  @Override
  public void bind(Routes routes) {
    routes.blocking(HttpMethod.POST, "/v1/cluster/snapshot", "snapshot", c -> snapshot(c.request()));
    routes.get("/v1/cluster/node", "node", c -> node());
    routes.get("/v1/cluster", "cluster", c -> cluster());
    routes.blocking(HttpMethod.POST, "/v1/cluster/members", "addMember", c -> addMember(c.request()));
    routes.blocking(HttpMethod.DELETE, "/v1/cluster/members/{id}", "removeMember", c -> removeMember(c.path("id")));
    routes.blocking(HttpMethod.POST, "/v1/cluster/backup", "backup", c -> backup(c.request()));
    routes.blocking(HttpMethod.POST, "/v1/cluster/restore", "restore", c -> restore(c.request()));
  }

  /** Writes a snapshot of the whole state on this node now, single node or cluster member. */
  public HttpResponse snapshot(AggregatedHttpRequest req) {
    Json.requireNoBody(req);
    snapshot.run();
    ObjectNode self = local();
    return Json.ok(Json.object().put("node", self.path("id").asText()).put("index", self.path("lastApplied").asLong()));
  }

  /** A GET with {@code consistent=true} first waits until this node has applied what the leader committed. */
  static DecoratingHttpServiceFunction consistentReads(CommandLog log) {
    return (delegate, ctx, req) -> {
      if (req.method() != HttpMethod.GET) {
        return delegate.serve(ctx, req);
      }
      boolean consistent;
      try {
        consistent = io.lodestar.server.http.QueryParams.bool("consistent",
            java.util.Optional.ofNullable(ctx.queryParam("consistent")), false);
      } catch (LodestarException e) {
        return Json.error(e); // consistent=maybe is refused by name, not read as false
      }
      if (!consistent) {
        return delegate.serve(ctx, req);
      }
      return HttpResponse.of(log.barrier().handle((v, err) -> {
        if (err != null) {
          Throwable c = err.getCause() != null ? err.getCause() : err;
          return Json.error(c instanceof LodestarException le ? le
              : new LodestarException(LodestarException.Code.UNAVAILABLE, "no leader for a consistent read", null));
        }
        try {
          return delegate.serve(ctx, req);
        } catch (Exception e) {
          return HttpResponse.ofFailure(e);
        }
      }));
    };
  }

  private ObjectNode local() {
    ObjectNode o = Json.object();
    if (raft == null) {
      o.put("id", address.get()).put("role", "leader").put("term", 0).put("leader", address.get())
          .put("lastApplied", localIndex.getAsLong()).put("lastCommitted", localIndex.getAsLong());
    } else {
      o.put("id", raft.nodeId()).put("role", raft.role()).put("term", raft.term()).put("leader", raft.leaderId())
          .put("lastApplied", raft.appliedIndex()).put("lastCommitted", raft.commitIndex());
      String stalled = raft.applyStall();
      if (stalled != null) {
        o.put("stalled", stalled); // it has stopped applying for good: rebuild it
      }
    }
    o.put("secretKeyId", secretBox.keyId()).put("secretKeyGeneration", secretBox.generation());
    // the level this member agrees to (what its version knows, or a level it holds at), and the
    // state's (FeatureLevels)
    o.put("featureLevel", levels.agreed()).put("stateFeatureLevel", levels.stateLevel());
    return o;
  }

  public HttpResponse node() {
    return Json.ok(local());
  }

  public CompletableFuture<HttpResponse> cluster() {
    ObjectNode self = local();
    ObjectNode root = Json.object();
    root.put("featureLevel", levels.stateLevel());
    levels.waitingFor().forEach(root.putArray("featureLevelWaitsFor")::add);
    if (raft == null) {
      root.put("leader", address.get()).put("term", 0);
      ObjectNode m = root.putArray("members").addObject();
      m.put("id", address.get()).put("address", address.get()).put("role", "leader")
          .put("lastApplied", localIndex.getAsLong()).put("lastCommitted", localIndex.getAsLong())
          .put("featureLevel", levels.agreed());
      return CompletableFuture.completedFuture(Json.ok(root));
    }
    root.put("leader", raft.leaderId()).put("term", raft.term());
    List<CompletableFuture<ObjectNode>> asks = new ArrayList<>();
    for (RaftCluster.Peer p : raft.members()) {
      if (p.id().equals(raft.nodeId())) {
        asks.add(CompletableFuture.completedFuture(member(p, self)));
        continue;
      }
      HttpRequest req = peers.get(p.clientAddress(), "/v1/cluster/node", Duration.ofSeconds(2)).build();
      asks.add(peers.client().sendAsync(req, java.net.http.HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
        if (r.statusCode() != 200) {
          throw new IllegalStateException("member answered " + r.statusCode()); // refused us: shown unreachable
        }
        JsonNode n = Json.parseObject(r.body());
        return member(p, n);
      }).exceptionally(e -> {
        ObjectNode o = member(p, null);
        o.put("role", "unreachable");
        return o;
      }));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
      ArrayNode arr = root.putArray("members");
      asks.forEach(a -> arr.add(a.join()));
      return Json.ok(root);
    });
  }

  private ObjectNode member(RaftCluster.Peer p, JsonNode info) {
    ObjectNode o = Json.object();
    o.put("id", p.id()).put("address", p.clientAddress()).put("raftAddress", p.raftAddress());
    String leader = raft.leaderId();
    if (info != null) {
      o.put("role", info.path("role").asText());
      o.put("lastApplied", info.path("lastApplied").asLong());
      if (info.has("lastCommitted")) { // a version before it says nothing
        o.put("lastCommitted", info.path("lastCommitted").asLong());
      }
      if (info.hasNonNull("stalled")) {
        o.put("stalled", info.path("stalled").asText());
      }
      o.put("featureLevel", info.path("featureLevel").asInt(0)); // a version before levels says nothing: 0
    } else {
      o.put("role", p.id().equals(leader) ? "leader" : "follower");
      o.putNull("lastApplied");
      o.putNull("lastCommitted");
      o.putNull("featureLevel");
    }
    return o;
  }

  /** Adds a member: {@code {"id":"n4","address":"host:port","raftPort":8731}} (raftPort optional). */
  public HttpResponse addMember(AggregatedHttpRequest req) throws IOException  {
    requireCluster("membership cannot change");
    JsonNode body = Json.parseObject(req);
    String id = body.path("id").asText("");
    String addr = body.path("address").asText("");
    if (id.isEmpty()) {
      throw LodestarException.invalid("id", "id is required");
    }
    if (addr.isEmpty()) {
      throw LodestarException.invalid("address", "address (host:port of the new node's client port) is required");
    }
    if (body.hasNonNull("raftPort")) {
      addr = addr + "/" + body.get("raftPort").asInt();
    }
    ClusterConfig.Member m;
    try {
      m = ClusterConfig.Member.parse(id + "=" + addr);
    } catch (IllegalArgumentException e) {
      throw LodestarException.invalid("address", e.getMessage());
    }
    levels.requireMayJoin(m.id(), m.clientAddress());
    raft.addMember(m);
    audit("add_member", id + "=" + addr);
    return Json.respond(HttpStatus.CREATED, Json.object().put("added", id));
  }

  public HttpResponse removeMember(String id) throws IOException  {
    requireCluster("membership cannot change");
    raft.removeMember(id);
    audit("remove_member", id);
    return Json.ok(Json.object().put("removed", id));
  }

  /**
   * Records a membership change in the audit trail. Ratis applies membership as its own
   * configuration entry, which the state machine never sees, so a note goes through the log after
   * it; the change stands even if the note fails (it is logged then).
   */
  private void audit(String action, String target) {
    try {
      audit.submit(io.lodestar.api.v1.state.Command.newBuilder().setAuditNote(
          io.lodestar.api.v1.state.AuditNote.newBuilder().setAction(action).setTarget(target)).build())
          .get(io.lodestar.server.storage.RaftLog.WRITE_TIMEOUT_MILLIS * 2, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("Membership change {} {} done, but its audit "
          + "entry was not recorded: {}", action, target, e.toString());
    }
  }

  /** Writes a backup of the whole state into {@code <data-dir>/backups/} on this node. */
  public HttpResponse backup(AggregatedHttpRequest req) throws IOException  {
    Json.requireNoBody(req);
    requireCluster("a single node has no cluster backup: POST /v1/cluster/snapshot writes a snapshot-*.bin into "
        + "its data directory, the same whole state a cluster restores (docs/operations.md, \"Backup and restore\")");
    io.lodestar.server.storage.OwnerOnly.createDirectories(backups);
    long index = raft.appliedIndex();
    java.nio.file.Path file = backups.resolve(String.format("backup-%020d.bin", index));
    long at = raft.backup(file);
    java.nio.file.Path named = backups.resolve(String.format("backup-%020d.bin", at));
    if (!named.equals(file)) {
      java.nio.file.Files.move(file, named, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return Json.respond(HttpStatus.CREATED, Json.object().put("name", named.getFileName().toString())
        .put("file", named.toAbsolutePath().toString()).put("index", at));
  }

  /**
   * Replaces the whole cluster's state with a backup found in {@code <data-dir>/backups/} on this
   * node: a cluster backup ({@code backup-*.bin}, or a Raft snapshot file) or a single node's
   * {@code snapshot-*.bin}. Every node applies it at the same log index.
   */
  public HttpResponse restore(AggregatedHttpRequest req) throws IOException  {
    requireCluster("a single node restores by being stopped and given the data directory of a backup; a backup "
        + "or a single node's snapshot restores into a running cluster (docs/operations.md, \"Backup and restore\")");
    String name = Json.parseObject(req).path("name").asText("");
    if (!name.matches("[A-Za-z0-9._-]{1,200}") || name.startsWith(".")) {
      throw LodestarException.invalid("name", "name is the file name of a backup in " + backups.toAbsolutePath());
    }
    java.nio.file.Path file = backups.resolve(name);
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw LodestarException.notFound("no backup " + name + " in " + backups.toAbsolutePath() + " on this node");
    }
    // streamed throughout: the checksum, a read-through of the state, then its bytes deflated into
    // the entry; never the state whole as protobuf (~2 KB of heap an instance)
    long t0 = System.nanoTime();
    Backups.State state = Backups.locate(file);
    io.lodestar.core.StreamedSnapshot.Contents contents = state.check();
    int level = levels.stateLevel();
    if (contents.featureLevel() > level) {
      // a member that does not know the backup's level would read its state otherwise than the rest
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "backup " + name + " was taken at "
          + "feature level " + contents.featureLevel() + " and the cluster is at level " + level + ": a member runs an "
          + "older version (GET /v1/cluster shows each member's level); restore it once every member runs this one",
          "name");
    }
    LOG.info("Restoring backup {}: {} namespaces, {} instances, {} bytes; checked in {} ms, sending it to every node",
        name, contents.namespaces(), contents.instances(), state.length(), (System.nanoTime() - t0) / 1_000_000);
    long entryBytes = raft.restore(state.open(), state.length()).join();
    LOG.info("Restored backup {} through the log (an entry of {} bytes) in {} ms", name, entryBytes,
        (System.nanoTime() - t0) / 1_000_000);
    return Json.ok(Json.object().put("restored", name).put("instances", contents.instances())
        .put("namespaces", contents.namespaces()).put("entryBytes", entryBytes));
  }

  private void requireCluster(String why) {
    if (raft == null) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
          "this server runs as a single node (no --cluster); " + why, null);
    }
  }
}
