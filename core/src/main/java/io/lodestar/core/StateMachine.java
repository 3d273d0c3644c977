package io.lodestar.core;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.AuditSnapshot;
import io.lodestar.api.v1.state.ConfigSnapshot;
import io.lodestar.api.v1.state.KvSnapshot;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.api.v1.state.TokenSnapshot;
import io.lodestar.core.audit.AuditLog;
import io.lodestar.core.auth.TokenStore;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.governance.Governance;
import io.lodestar.core.governance.LegacyRules;
import io.lodestar.core.kv.KvStore;
import io.lodestar.core.naming.Registry;

/**
 * Lodestar's replicated state: the one place a {@link Command} is applied. The log (local today,
 * Raft tomorrow) hands it commands in log order on one thread; it dispatches each to the domain
 * that owns it. Deterministic: same commands in, same state out.
 */
public final class StateMachine {
  /**
   * The feature level this version applies commands at, at most. A level changes how some logged
   * command applies, so every replica must apply it the same way: a state starts at level 0 (as the
   * versions before levels applied), and moves up only by a logged {@code RaiseFeatureLevel}, which
   * the leader writes once every member says it knows the level (docs/operations.md, "Feature
   * levels"). Level 1: an operator's weight holds over re-registrations and can be given back;
   * a cluster restore travels deflated.
   */
  public static final int FEATURE_LEVEL = 1;

  private final Registry registry = new Registry();
  private volatile int featureLevel;
  private final ConfigStore configs = new ConfigStore(ns -> registry.namespace(ns) != null);
  private final KvStore kv = new KvStore(ns -> registry.namespace(ns) != null);
  private final TokenStore tokens = new TokenStore();
  private final AuditLog audit = new AuditLog();

  public Registry registry() {
    return registry;
  }

  /** The state's feature level: commands apply as at this level ({@link #FEATURE_LEVEL}). */
  public int featureLevel() {
    return featureLevel;
  }

  public StateMachine() {
    setFeatureLevel(0);
  }

  private void setFeatureLevel(int level) {
    if (level > FEATURE_LEVEL) {
      // Not a refusal: this replica cannot apply what comes next as the others will. It stops
      // rather than diverge (the log's rule for an apply that fails other than by refusal).
      throw new IllegalStateException("the state is at feature level " + level + ", and this version applies "
          + "commands at up to level " + FEATURE_LEVEL + ": run the version the other members run");
    }
    featureLevel = level;
    registry.operatorWeightsHold(level >= 1);
  }

  public ConfigStore configs() {
    return configs;
  }

  public KvStore kv() {
    return kv;
  }

  public TokenStore tokens() {
    return tokens;
  }

  public AuditLog audit() {
    return audit;
  }

  /** Stateless checks, before a command is logged. Throws {@link LodestarException}. */
  public static void validate(Command logged) {
    Command cmd = LegacyRules.upgrade(logged);
    if (ConfigStore.handles(cmd)) {
      ConfigStore.validate(cmd);
    } else if (KvStore.handles(cmd)) {
      KvStore.validate(cmd);
    } else if (Governance.handles(cmd)) {
      Governance.validate(cmd);
    } else if (TokenStore.handles(cmd)) {
      TokenStore.validate(cmd);
    } else if (cmd.hasRaiseFeatureLevel()) {
      if (cmd.getRaiseFeatureLevel().getLevel() < 1) {
        throw LodestarException.invalid("level", "a feature level to raise to is 1 or more");
      }
    } else if (cmd.hasAuditNote()) {
      io.lodestar.core.Validation.name("action", cmd.getAuditNote().getAction());
    } else {
      Registry.validate(cmd);
    }
  }

  /**
   * Refuses, before it is logged, what the state's feature level does not take yet: a command whose
   * meaning a member of an older version would not share. (Applied anyway, as by a member that
   * accepted it before a restore took the level down, it applies as at the state's level.)
   */
  public void admit(Command cmd) {
    registry.admit(cmd);
  }

  /**
   * Applies one command; a {@link LodestarException} means it was refused and changed nothing.
   * A command a client made is recorded in the audit trail once it applied.
   */
  public CommandResult apply(Command logged) {
    // a command logged before rule enumerations were proto enums carries them as strings
    Command cmd = LegacyRules.upgrade(logged);
    CommandResult result = applyToDomain(cmd);
    audit.record(cmd);
    return result;
  }

  private CommandResult applyToDomain(Command cmd) {
    if (cmd.hasRaiseFeatureLevel()) {
      int to = cmd.getRaiseFeatureLevel().getLevel();
      if (to > featureLevel) {
        setFeatureLevel(to);
      }
      return CommandResult.getDefaultInstance();
    }
    if (TokenStore.handles(cmd)) {
      return tokens.apply(cmd);
    }
    if (cmd.hasAuditNote()) {
      return CommandResult.getDefaultInstance();
    }
    if (ConfigStore.handles(cmd)) {
      return configs.apply(cmd);
    }
    if (KvStore.handles(cmd)) {
      return kv.apply(cmd);
    }
    if (Governance.handles(cmd)) {
      return Governance.apply(cmd, registry);
    }
    if (cmd.hasDeleteNamespace() && configs.hasConfigs(cmd.getDeleteNamespace().getName())) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
          "namespace " + cmd.getDeleteNamespace().getName() + " is not empty: it has configs", "name");
    }
    if (cmd.hasDeleteNamespace() && kv.hasKeys(cmd.getDeleteNamespace().getName())) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
          "namespace " + cmd.getDeleteNamespace().getName() + " is not empty: it has keys", "name");
    }
    return registry.apply(cmd);
  }

  /**
   * Whether a command changes only soft state (ephemeral instances, {@link Registry#softState}):
   * a single node may acknowledge such a write before it is synced to disk. Applier thread,
   * against the state before the command applies.
   */
  public boolean softState(Command logged) {
    return registry.softState(logged);
  }

  /** The registry's revision counter: what a single node keeps unsynced changes within. */
  public long revision() {
    return registry.revision();
  }

  /** See {@link Registry#skipRevisions}. */
  public void skipRevisions(long by) {
    registry.skipRevisions(by);
  }

  /** Ends a batch: publishes views and notifies listeners. */
  public void flush() {
    registry.flush();
    configs.flush();
    kv.flush();
    tokens.flush();
  }

  public StateSnapshot snapshot(long appliedIndex) {
    return StateSnapshot.newBuilder().setAppliedIndex(appliedIndex).setFeatureLevel(featureLevel)
        .setRegistry(registry.snapshot())
        .setConfigs(configs.snapshot()).setKv(kv.snapshot())
        .setTokens(tokens.snapshot()).setAudit(audit.snapshot()).build();
  }

  /**
   * The state as of {@code appliedIndex}, captured cheaply (the registry as references to its
   * immutable entries) to be written by any thread: the same bytes as {@link #snapshot}'s, without
   * a whole protobuf copy of the registry in memory. Call on the applier thread.
   */
  public StreamedSnapshot captureSnapshot(long appliedIndex) {
    return new StreamedSnapshot(appliedIndex, featureLevel, registry.capture(), configs.snapshot(), kv.snapshot(),
        tokens.snapshot(), audit.snapshot());
  }

  public void restore(StateSnapshot snapshot) {
    restoreFeatureLevel(snapshot.getFeatureLevel());
    registry.restore(snapshot.getRegistry());
    restoreStores(snapshot.getConfigs(), snapshot.getKv(), snapshot.getTokens(), snapshot.getAudit());
  }

  /** A restored state's level (a backup's may be lower than the state's was: the leader raises it again). */
  void restoreFeatureLevel(int level) {
    setFeatureLevel(level);
  }

  /** Everything but the registry, which {@link StreamedSnapshot#restore} restores itself first. */
  void restoreStores(ConfigSnapshot configSnapshot, KvSnapshot kvSnapshot, TokenSnapshot tokenSnapshot,
      AuditSnapshot auditSnapshot) {
    configs.restore(configSnapshot);
    kv.restore(kvSnapshot);
    tokens.restore(tokenSnapshot);
    audit.restore(auditSnapshot);
  }
}
