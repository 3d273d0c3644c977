package io.lodestar.cli;

import java.util.Map;
import java.util.Set;

/**
 * Finds a call's verb before picocli has seen the command line, so that {@link Main} builds that
 * verb only. Only the plain case counts: the global options (each with its value) and then a verb
 * name. Anything else (help, a typo, an option attached to its value) is left to the full command
 * tree, so the answer is never different, only slower.
 */
final class VerbLookup {
  /** Each verb's name and aliases, as in its {@code @Command} (CliOfflineTest checks they agree). */
  static final Map<String, Class<?>> BY_NAME = Map.ofEntries(
      Map.entry("register", RegisterCommand.class),
      Map.entry("deregister", DeregisterCommand.class),
      Map.entry("isolate", InstanceUpdate.Isolate.class),
      Map.entry("restore", InstanceUpdate.Restore.class),
      Map.entry("weight", InstanceUpdate.Weight.class),
      Map.entry("heartbeat", HeartbeatCommand.class),
      Map.entry("instances", InstancesCommand.class),
      Map.entry("services", ServicesCommand.class),
      Map.entry("watch", WatchCommand.class),
      Map.entry("namespaces", NamespacesCommand.class),
      Map.entry("ns", NamespacesCommand.class),
      Map.entry("config", ConfigCommand.class),
      Map.entry("rules", RulesCommand.class),
      Map.entry("cluster", ClusterCommand.class),
      Map.entry("secrets", SecretsCommand.class),
      Map.entry("top", TopCommand.class),
      Map.entry("token", TokenCommand.class),
      Map.entry("audit", AuditCommand.class));

  /** {@link Main}'s options that take a value. */
  private static final Set<String> VALUED = Set.of(
      "--server", "-n", "--namespace", "--tls-ca", "--tls-cert", "--tls-key", "--token", "--timeout");

  private VerbLookup() {}

  /** The verb's command class, or null when the command line is not the plain case. */
  static Class<?> verbOf(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (VALUED.contains(a)) {
        i++;  // its value
      } else if (a.startsWith("--") && a.indexOf('=') > 0 && VALUED.contains(a.substring(0, a.indexOf('=')))) {
        continue;
      } else if (!a.equals("--json")) {
        return BY_NAME.get(a);
      }
    }
    return null;
  }
}
