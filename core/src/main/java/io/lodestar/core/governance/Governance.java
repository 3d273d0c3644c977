package io.lodestar.core.governance;

import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.DeleteRules;
import io.lodestar.api.v1.state.PutRules;
import io.lodestar.core.LodestarException;
import io.lodestar.core.LodestarException.Code;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;

/**
 * The governance commands of the state machine. Rules live with what they govern: a service's in
 * its {@code ServiceInfo}, a namespace's defaults in its {@code Namespace}, so they are persisted
 * by the registry's snapshot and pushed to SDKs with the service (a rule change bumps the service
 * revision). Deterministic; time only from the command.
 */
public final class Governance {
  private Governance() {}

  public static boolean handles(Command cmd) {
    return cmd.getKindCase() == Command.KindCase.PUT_RULES || cmd.getKindCase() == Command.KindCase.DELETE_RULES;
  }

  /** Stateless checks, before logging. */
  public static void validate(Command cmd) {
    switch (cmd.getKindCase()) {
      case PUT_RULES -> {
        PutRules p = cmd.getPutRules();
        checkOwner(p.getNamespace(), p.getService());
        RuleKind kind = RuleKind.only(p.getRules());
        checkScope(kind, p.getService());
        RuleValidator.validate(kind, p.getRules());
      }
      case DELETE_RULES -> {
        DeleteRules d = cmd.getDeleteRules();
        checkOwner(d.getNamespace(), d.getService());
        checkScope(RuleKind.of("kind", d.getKind()), d.getService());
      }
      default -> throw LodestarException.invalid("kind", "not a governance command: " + cmd.getKindCase());
    }
  }

  private static void checkScope(RuleKind kind, String service) {
    if (kind.namespaceOnly() && !service.isEmpty()) {
      throw LodestarException.invalid("kind", kind.wireName()
          + " rules are set per namespace (/v1/namespaces/{ns}/rules/" + kind.wireName() + "), not per service");
    }
  }

  private static void checkOwner(String namespace, String service) {
    Validation.name("namespace", namespace);
    if (!service.isEmpty()) {
      Validation.name("service", service);
    }
  }

  public static CommandResult apply(Command cmd, Registry registry) {
    validate(cmd);
    long now = cmd.getTimeMs();
    GovernanceRules after;
    if (cmd.hasPutRules()) {
      PutRules p = cmd.getPutRules();
      RuleKind kind = RuleKind.only(p.getRules());
      GovernanceRules current = current(registry, p.getNamespace(), p.getService());
      long version = kind.isSet(current) ? kind.version(current) : 0;
      checkVersion(p.getExpectedVersion(), version);
      after = kind.copy(kind.stamp(p.getRules(), version + 1, now), current);
      store(registry, p.getNamespace(), p.getService(), after, now);
    } else {
      DeleteRules d = cmd.getDeleteRules();
      RuleKind kind = RuleKind.of("kind", d.getKind());
      GovernanceRules current = current(registry, d.getNamespace(), d.getService());
      if (!kind.isSet(current)) {
        throw LodestarException.notFound("no " + kind.wireName() + " rule on " + owner(d.getNamespace(), d.getService())
            .trim());
      }
      checkVersion(d.getExpectedVersion(), kind.version(current));
      after = kind.copy(GovernanceRules.getDefaultInstance(), current);
      store(registry, d.getNamespace(), d.getService(), after, now);
    }
    return CommandResult.newBuilder().setRules(after).build();
  }

  private static GovernanceRules current(Registry registry, String namespace, String service) {
    Namespace ns = registry.namespace(namespace);
    if (ns == null) {
      throw LodestarException.notFound("namespace " + namespace + " does not exist");
    }
    return service.isEmpty() ? ns.getRules() : registry.ownRules(namespace, service);
  }

  private static void store(Registry registry, String namespace, String service, GovernanceRules rules, long now) {
    if (service.isEmpty()) {
      registry.setNamespaceRules(namespace, rules);
    } else {
      registry.setServiceRules(namespace, service, rules, now);
    }
  }

  private static void checkVersion(long expected, long current) {
    if (expected != 0 && expected != current) {
      throw new LodestarException(Code.CONFLICT, "version mismatch: expected " + expected + ", current " + current,
          "version");
    }
  }

  private static String owner(String namespace, String service) {
    return service.isEmpty() ? "namespace " + namespace + " " : "service " + namespace + "/" + service + " ";
  }
}
