package io.lodestar.server.storage;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.RaiseFeatureLevel;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.PeerHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the state's feature level ({@link StateMachine#FEATURE_LEVEL}) up once every member knows
 * it, so that a rolling upgrade never has two members apply one command two ways. A single node
 * is every member: it raises at start. In a cluster the leader asks each member which level it
 * knows ({@code GET /v1/cluster/node}: {@code featureLevel}; a version before levels does not say,
 * which is level 0) and logs a raise to the lowest answer once it is above the state's. A member
 * that does not answer holds the level where it is: it may run an older version.
 */
public final class FeatureLevels {
  private static final Logger log = LoggerFactory.getLogger(FeatureLevels.class);
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(2);

  private final CommandLog commandLog;
  private final StateMachine state;
  private final RaftCluster cluster; // null: a single node
  private final PeerHttp peers;
  private final int agreed; // the highest level this member agrees to
  private final AtomicBoolean checking = new AtomicBoolean();
  private volatile String toldWaiting = ""; // the last reason logged for waiting, logged once
  private volatile List<String> waitingFor = List.of(); // the members the last check waited for

  /** @param agreed the highest level this member agrees to: {@link StateMachine#FEATURE_LEVEL}, or a lower one it holds */
  public FeatureLevels(CommandLog commandLog, StateMachine state, RaftCluster cluster, PeerHttp peers, int agreed) {
    this.agreed = agreed;
    this.commandLog = commandLog;
    this.state = state;
    this.cluster = cluster;
    this.peers = peers;
  }

  /** The highest level this member agrees to. */
  public int agreed() {
    return agreed;
  }

  /** The state's level. */
  public int stateLevel() {
    return state.featureLevel();
  }

  /**
   * The members the leader's last check found below the next level ({@code "n2 (level 0)"}, {@code
   * "n3 (no answer)"}): why the level has not risen. Empty on other members and once raised.
   */
  public List<String> waitingFor() {
    return waitingFor;
  }

  /** A single node at start: the level this version knows, before it serves (it is every member). */
  public void raiseAlone() {
    if (agreed < StateMachine.FEATURE_LEVEL) {
      log.info("This member holds the feature level at {} at most (--hold-feature-level; this version knows {})",
          agreed, StateMachine.FEATURE_LEVEL);
    }
    if (state.featureLevel() > agreed) {
      log.warn("The state is at feature level {}, above the level this member holds ({}): holding does not take "
          + "a level down, and a version that knows only {} cannot apply this state", state.featureLevel(), agreed, agreed);
    }
    if (cluster == null && state.featureLevel() < agreed) {
      raise(agreed, "a single node").join();
    }
  }

  /**
   * Raises the level if it is below this version's and every member knows a higher one; on a
   * cluster's leader only. Periodic (a restored backup may take the level down); never waits.
   */
  public void check() {
    int at = state.featureLevel();
    if (at >= StateMachine.FEATURE_LEVEL || commandLog.status().state() != LogStatus.State.UP) {
      waitingFor = List.of();
      return;
    }
    if (cluster == null) {
      if (at < agreed) {
        raise(agreed, "a single node");
      }
      return;
    }
    if (!cluster.nodeId().equals(cluster.leaderId())) {
      waitingFor = List.of();
      return;
    }
    if (!checking.compareAndSet(false, true)) {
      return;
    }
    List<RaftCluster.Peer> members = cluster.members();
    List<CompletableFuture<Integer>> asks = new ArrayList<>();
    for (RaftCluster.Peer p : members) {
      asks.add(p.id().equals(cluster.nodeId()) ? CompletableFuture.completedFuture(agreed) : ask(p.clientAddress()));
    }
    CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
      try {
        int lowest = agreed;
        List<String> behind = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
          Integer known = asks.get(i).join();
          if (known == null || known <= at) {
            behind.add(members.get(i).id() + (known == null ? " (no answer)" : " (level " + known + ")"));
          }
          lowest = Math.min(lowest, known == null ? at : known);
        }
        waitingFor = lowest > at ? List.of() : List.copyOf(behind);
        if (lowest > at) {
          raise(lowest, "every member knows it");
        } else if (!behind.toString().equals(toldWaiting)) {
          toldWaiting = behind.toString();
          log.info("Feature level stays {} (this version knows {}): members {} run an older version, hold a "
              + "level, or do not answer; what the next level changes waits for them (docs/operations.md, "
              + "\"Feature levels\")", at, StateMachine.FEATURE_LEVEL, behind);
        }
      } finally {
        checking.set(false);
      }
    });
  }

  /**
   * Refuses a node about to join that would apply the state's commands at a lower level than the
   * state's (an older version, or one that holds a lower level). One that does not answer is left to
   * the join itself, which needs it up.
   */
  public void requireMayJoin(String id, String clientAddress) {
    int level = state.featureLevel();
    if (level == 0) {
      return;
    }
    Integer agrees = ask(clientAddress).join();
    if (agrees != null && agrees < level) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "member " + id + " agrees to "
          + "feature level " + agrees + " and the state is at level " + level + ": it would apply the state's "
          + "commands otherwise than the other members. Run this version on it (without --hold-feature-level "
          + "below " + level + ")", "id");
    }
  }

  /** The level a node agrees to: 0 when it does not say (a version before levels), null when it does not answer. */
  private CompletableFuture<Integer> ask(String clientAddress) {
    HttpRequest req = peers.get(clientAddress, "/v1/cluster/node", ASK_TIMEOUT).build();
    return peers.client().sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      if (r.statusCode() != 200) {
        return (Integer) null;
      }
      JsonNode level = Json.parseObject(r.body()).get("featureLevel");
      return level == null || !level.canConvertToInt() ? 0 : level.asInt();
    }).exceptionally(e -> null);
  }

  private CompletableFuture<Void> raise(int level, String why) {
    // in the audit trail as the server's own act (as the bootstrap token's), from this member: the
    // moment every member started applying some commands another way
    return commandLog.submit(Command.newBuilder().setActor("lodestar")
        .setSource(cluster == null ? "single node" : "leader " + cluster.nodeId())
        .setRaiseFeatureLevel(RaiseFeatureLevel.newBuilder().setLevel(level)).build()).handle((r, e) -> {
          if (e != null) {
            log.info("Raising the feature level to {} did not go through now ({}); trying again later", level,
                e.getMessage());
          } else {
            toldWaiting = "";
            log.info("Feature level raised to {} ({})", level, why);
          }
          return null;
        });
  }
}
