package io.lodestar.server.storage;

import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a member that has stopped applying for good: its commit index is ahead of its applied
 * index, the applied index has not moved for a while ({@link #STALL_NANOS} on a node), and its log holds no entry
 * after the applied one, so nothing will ever move it.
 *
 * <p>Seen once with Ratis 3.3.0 (SimulatedClusterTest, 2026-12-06): a former leader rejoining
 * while two snapshot installs from the new leader ran on it loaded the older snapshot while its
 * log had moved past the newer one. Ratis' applier then spins on the missing entry, and stopping
 * the server waits for it forever. A restart heals it only when the leader no longer holds the
 * entries after the member's log (it then sends a snapshot); rebuilding the member always does
 * (SimulatedClusterTest). This makes it loud instead of a silently stale follower. Its log is
 * not deleted by Lodestar: a member that lost entries it acknowledged could help elect a leader
 * without them.
 *
 * <p>Called on every status read (each SDK heartbeat), so the usual case is two comparisons.
 * Racing callers may both observe a change; the worst case is a check deferred by one call.
 */
final class ApplyStall {
  private static final Logger log = LoggerFactory.getLogger(ApplyStall.class);
  /** Far longer than applying the largest entry (a restore of 300,000 instances: ~5 s). */
  static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final long stallNanos;
  private volatile long seenApplied = -1;
  private volatile long seenAtNanos;
  private volatile String stalled;

  /** @param stallNanos how long the applied index stays put before the log is checked for a gap */
  ApplyStall(long stallNanos) {
    this.stallNanos = stallNanos;
  }

  /**
   * @param entryPresent whether this member's log holds the entry at an index
   * @return why this member has stopped applying, or null while it applies (or has nothing to)
   */
  String check(long applied, long committed, long nowNanos, LongPredicate entryPresent) {
    if (applied != seenApplied || applied >= committed) {
      seenApplied = applied;
      seenAtNanos = nowNanos;
      if (stalled != null) {
        stalled = null;
        log.info("Raft: applying again, at index {}", applied);
      }
      return null;
    }
    String reason = stalled;
    if (reason != null || nowNanos - seenAtNanos < stallNanos) {
      return reason;
    }
    if (entryPresent.test(applied + 1)) {
      seenAtNanos = nowNanos; // slow, not stuck: look again after another period
      return null;
    }
    reason = "stopped applying at log index " + applied + " while " + committed + " is committed: this member's log "
        + "holds no entry " + (applied + 1) + ", so it cannot catch up (a gap left by a snapshot install). A restart "
        + "does not always heal it; rebuild it: remove it from the cluster, wipe its data directory, start it with "
        + "--join and add it again (it then receives a snapshot)";
    stalled = reason;
    log.error("Raft: {}", reason);
    return reason;
  }
}
