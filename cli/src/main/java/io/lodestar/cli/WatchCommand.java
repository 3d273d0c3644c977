package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "watch",
    sortOptions = false,
    description = {
        "Follow a service: print its instances, then every change (instances added +, removed -, changed ~)"
            + " with the revision that made it. Runs until Ctrl-C, or until --count changes were seen.",
        "Uses the server's long poll, so changes show up as soon as they are made. If the server goes away,"
            + " watch says so on stderr and keeps retrying.",
        "With --json, prints one line per state: the server's JSON for the starting state, then for each change.",
    })
final class WatchCommand extends Verb {
  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name.")
  String service;

  @Option(names = {"-c", "--count"}, paramLabel = "N", description = "Exit after N changes.")
  Integer count;

  @Option(names = "--healthy", description = "Watch the healthy instances only (what discovery returns).")
  boolean healthy;

  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "30",
      description = "Longest a single long poll is held by the server (default: ${DEFAULT-VALUE}).")
  int waitSeconds;

  private Map<String, JsonNode> current = new LinkedHashMap<>();
  private boolean protecting;

  @Override
  public Integer call() throws Exception {
    if (count != null && count < 1) {
      throw usage("--count must be at least 1");
    }
    if (waitSeconds < 1 || waitSeconds > 300) {
      throw usage("--wait must be within 1–300 seconds");
    }
    String where = namespace() + "/" + service;
    LodestarApi.Response first = api().get(servicePath(service, "instances"), query(null));
    long revision = first.index(0);
    current = byId(first.json());
    if (json()) {
      main().printJson(first.json(), true);
    } else {
      long healthyCount = current.values().stream().filter(WatchCommand::isHealthy).count();
      out().println("watching " + where + " from revision " + revision + " (" + Table.plural(current.size(), "instance")
          + ", " + healthyCount + " healthy)" + (count == null ? "; Ctrl-C to stop" : ""));
      for (JsonNode i : current.values()) {
        out().println("  " + describe(i));
      }
      protecting = first.json().path("protectionApplied").asBoolean(false);
      if (protecting) {
        out().println("! protection applied: too many instances are unhealthy, so all are listed");
      }
      out().flush();
    }
    Duration pollTimeout = Duration.ofSeconds(waitSeconds + main().timeoutSeconds);
    int changes = 0;
    String trouble = null;
    long backoffMillis = 500;
    while (count == null || changes < count) {
      LodestarApi.Response res;
      try {
        res = api().get(servicePath(service, "instances"), query(revision), pollTimeout);
      } catch (CliException e) {
        // unreachable, or a 5xx such as a server shutting down: transient, keep trying.
        // A 4xx (say, the namespace was deleted) is final.
        if (e instanceof CliException.ServerError se && se.status < 500) {
          throw e;
        }
        if (!e.getMessage().equals(trouble)) {
          trouble = e.getMessage();
          err().println("lodestar: " + (e instanceof CliException.ServerError ? "the server answered: " : "")
              + trouble + "; retrying");
          err().flush();
        }
        Thread.sleep(backoffMillis);
        backoffMillis = Math.min(backoffMillis * 2, 2000);
        continue;
      }
      if (trouble != null) {
        err().println("lodestar: back in contact with " + api().server());
        err().flush();
        trouble = null;
      }
      backoffMillis = 500;
      long next = res.index(revision);
      if (next == revision) {
        continue;  // the wait ended without a change
      }
      Map<String, JsonNode> now = byId(res.json());
      if (json()) {
        main().printJson(res.json(), true);
      } else {
        printChanges(revision, next, now, res.json().path("protectionApplied").asBoolean(false));
      }
      current = now;
      revision = next;
      changes++;
    }
    return 0;
  }

  private Map<String, String> query(Long index) {
    Map<String, String> q = new LinkedHashMap<>();
    if (healthy) {
      q.put("healthy", "true");
    }
    if (index != null) {
      q.put("index", Long.toString(index));
      q.put("wait", waitSeconds + "s");
    }
    return q;
  }

  private void printChanges(long from, long to, Map<String, JsonNode> now, boolean protection) {
    String tag = "[revision " + to + "] ";
    List<String> lines = new ArrayList<>();
    if (to < from) {
      lines.add(tag + "! the revision went back from " + from + " (was the server reset?)");
    }
    for (Map.Entry<String, JsonNode> e : current.entrySet()) {
      if (!now.containsKey(e.getKey())) {
        lines.add(tag + "- " + label(e.getValue()));
      }
    }
    for (Map.Entry<String, JsonNode> e : now.entrySet()) {
      JsonNode before = current.get(e.getKey());
      if (before == null) {
        lines.add(tag + "+ " + describe(e.getValue()));
      } else {
        String diff = diff(before, e.getValue());
        if (diff != null) {
          lines.add(tag + "~ " + label(e.getValue()) + "  " + diff);
        }
      }
    }
    if (lines.isEmpty()) {
      lines.add(tag + "= no change to the instances (" + Table.plural(now.size(), "instance") + ")");
    }
    if (protection && !protecting) {
      lines.add(tag + "! protection applied: too many instances are unhealthy, so all are listed");
    } else if (!protection && protecting) {
      lines.add(tag + "! protection lifted: only healthy instances are listed again");
    }
    protecting = protection;
    lines.forEach(out()::println);
    out().flush();
  }

  /** {@code id  host:port}, or just {@code host:port} when that is the id. */
  static String label(JsonNode i) {
    String id = i.path("id").asText();
    String address = Table.address(i);
    return id.equals(address) || id.equals(i.path("host").asText() + ":" + i.path("port").asText())
        ? address : id + "  " + address;
  }

  /** {@code id  host:port  weight=100  HEALTHY  k=v}. */
  static String describe(JsonNode i) {
    StringBuilder b = new StringBuilder();
    b.append(label(i))
        .append("  weight=").append(i.path("weight").asText())
        .append("  ").append(i.path("health").asText());
    String meta = Table.metadata(i.path("metadata"));
    if (!meta.isEmpty()) {
      b.append("  ").append(meta);
    }
    return b.toString();
  }

  /** What changed in an instance, e.g. {@code health HEALTHY->UNHEALTHY, weight 100->50}, or null. */
  static String diff(JsonNode before, JsonNode after) {
    List<String> parts = new ArrayList<>();
    for (String f : List.of("host", "port", "protocol", "weight", "health", "ephemeral", "ttlSeconds")) {
      String a = text(before.get(f));
      String b = text(after.get(f));
      if (!Objects.equals(a, b)) {
        if (f.equals("host") || f.equals("port")) {
          continue;  // shown through the address
        }
        parts.add(f + " " + (a == null ? "-" : a) + "->" + (b == null ? "-" : b));
      }
    }
    if (!Objects.equals(text(before.get("host")), text(after.get("host")))
        || !Objects.equals(text(before.get("port")), text(after.get("port")))) {
      parts.add(0, "address " + Table.address(before) + "->" + Table.address(after));
    }
    String ma = Table.metadata(before.path("metadata"));
    String mb = Table.metadata(after.path("metadata"));
    if (!ma.equals(mb)) {
      parts.add("metadata {" + ma + "}->{" + mb + "}");
    }
    if (!Objects.equals(before.get("check"), after.get("check"))) {
      parts.add("check " + text(before.get("check")) + "->" + text(after.get("check")));
    }
    if (parts.isEmpty()) {
      if (!Objects.equals(before.get("revision"), after.get("revision"))) {
        return "updated (nothing visible changed)";
      }
      return null;
    }
    return String.join(", ", parts);
  }

  private static String text(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return null;
    }
    return n.isValueNode() ? n.asText() : Json.write(n);
  }

  static boolean isHealthy(JsonNode i) {
    return "HEALTHY".equalsIgnoreCase(i.path("health").asText());
  }

  private static Map<String, JsonNode> byId(JsonNode body) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    for (Iterator<JsonNode> it = body.path("instances").elements(); it.hasNext(); ) {
      JsonNode i = it.next();
      m.put(i.path("id").asText(), i);
    }
    return m;
  }
}
