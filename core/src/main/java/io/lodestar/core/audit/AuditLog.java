package io.lodestar.core.audit;

import io.lodestar.api.v1.state.AuditEntry;
import io.lodestar.api.v1.state.AuditSnapshot;
import io.lodestar.api.v1.state.Command;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The audit trail: one entry per applied write that a client made (the command carries its actor
 * and source, stamped by the node that accepted it). Part of the replicated state, so every
 * replica holds the same entries in the same order, and snapshots persist them. Append-only and
 * bounded: past {@link #CAPACITY} the oldest entry goes (export it if you need more, docs/security.md).
 *
 * <p>Writes the server makes itself (health transitions, lease expiry) carry no actor and are not
 * recorded: they would drown the operators' writes. Nor are an SDK stream's ephemeral
 * registrations (an instance with an owner): they are soft state an application re-asserts on its
 * own, one per instance and again after every reconnect, so a fleet's restart would flush the
 * operators' writes out of the bounded trail (and each entry cost more heap than its instance's
 * lease). What an operator does — tokens, namespaces, rules, configs, REST and CLI registrations,
 * persistent instances, deregistrations — is recorded.
 *
 * <p>Threading: {@link #record} on the applier thread; {@link #query} on any thread (a copy under
 * the lock, so readers never see a half-appended entry).
 */
public final class AuditLog {
  public static final int CAPACITY = 20_000;

  // actors, sources and actions repeat across thousands of entries: one copy of each
  private static final com.google.common.collect.Interner<String> STRINGS =
      com.google.common.collect.Interners.newWeakInterner();

  private final ArrayDeque<AuditEntry> entries = new ArrayDeque<>();
  private long nextIndex = 1;

  /** Records an applied command, if a client made it. */
  public synchronized void record(Command cmd) {
    if (cmd.getActor().isEmpty() || cmd.getKindCase() == Command.KindCase.KIND_NOT_SET || sdkLease(cmd)) {
      return;
    }
    String[] what = AuditTargets.of(cmd);
    AuditEntry e = AuditEntry.newBuilder().setIndex(nextIndex++).setTimeMs(cmd.getTimeMs())
        .setActor(STRINGS.intern(cmd.getActor())).setSource(STRINGS.intern(cmd.getSource()))
        .setAction(STRINGS.intern(cmd.hasAuditNote() ? cmd.getAuditNote().getAction()
            : cmd.getKindCase().name().toLowerCase(Locale.ROOT)))
        .setNamespace(what[0]).setTarget(what[1]).build();
    entries.addLast(e);
    if (entries.size() > CAPACITY) {
      entries.removeFirst();
    }
  }

  /** An SDK stream's ephemeral registration: it carries the stream's client id as its owner. */
  private static boolean sdkLease(Command cmd) {
    return cmd.hasRegisterInstance() && cmd.getRegisterInstance().getInstance().getEphemeral()
        && !cmd.getRegisterInstance().getInstance().getOwner().isEmpty();
  }

  /** Entries at or after {@code sinceMs}, of namespace {@code ns} (null: all), oldest first, at most {@code limit}. */
  public synchronized List<AuditEntry> query(long sinceMs, String ns, int limit) {
    List<AuditEntry> out = new ArrayList<>();
    for (AuditEntry e : entries) {
      if (e.getTimeMs() >= sinceMs && (ns == null || ns.equals(e.getNamespace()))) {
        out.add(e);
        if (out.size() >= limit) {
          break;
        }
      }
    }
    return out;
  }

  public synchronized AuditSnapshot snapshot() {
    return AuditSnapshot.newBuilder().setNextIndex(nextIndex).addAllEntries(entries).build();
  }

  public synchronized void restore(AuditSnapshot snapshot) {
    entries.clear();
    entries.addAll(snapshot.getEntriesList());
    nextIndex = Math.max(1, snapshot.getNextIndex());
  }
}
