package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "cluster",
    description = "Show the cluster (the default), or add or remove one member at a time.",
    subcommands = {
        ClusterCommand.Status.class,
        ClusterCommand.Add.class,
        ClusterCommand.Remove.class,
        ClusterCommand.Backup.class,
        ClusterCommand.Restore.class,
    })
final class ClusterCommand extends Verb {
  @Override
  public Integer call() throws Exception {
    return status(this);
  }

  static int status(Verb v) throws InterruptedException {
    LodestarApi.Response res = v.api().get(LodestarApi.path("v1", "cluster"), Map.of());
    if (v.json()) {
      v.printJson(res.json());
      return 0;
    }
    JsonNode c = res.json();
    List<String> waits = new java.util.ArrayList<>();
    c.path("featureLevelWaitsFor").forEach(w -> waits.add(w.asText()));
    v.out().println("leader: " + (c.path("leader").isNull() ? "(none)" : c.path("leader").asText()) + "   term: "
        + c.path("term").asText() + "   feature level: " + c.path("featureLevel").asText("?")
        + (waits.isEmpty() ? "" : " (waits for " + String.join(", ", waits) + ")"));
    Table t = new Table("ID", "ADDRESS", "ROLE", "LAST APPLIED", "LEVEL");
    for (JsonNode m : c.path("members")) {
      t.row(m.path("id").asText(), m.path("address").asText(), m.path("role").asText(),
          m.path("lastApplied").isNull() ? "-" : m.path("lastApplied").asText(),
          m.path("featureLevel").isNull() || m.path("featureLevel").isMissingNode() ? "-" : m.path("featureLevel").asText());
    }
    t.print(v.out());
    for (JsonNode m : c.path("members")) {
      if (m.hasNonNull("stalled")) {
        v.out().println(m.path("id").asText() + " " + m.path("stalled").asText());
      }
    }
    return 0;
  }

  @Command(name = "status", description = "Show the leader, the term, the feature level and each member's role, "
      + "applied index and the feature level it agrees to.")
  static final class Status extends Verb {
    @Override
    public Integer call() throws Exception {
      return status(this);
    }
  }

  @Command(name = "add", description = "Add a member. Start it first with --node-id ID --join --cluster ...; "
      + "add one node at a time.")
  static final class Add extends Verb {
    @Parameters(index = "0", paramLabel = "ID=HOST:PORT", description = "The new member and its client address.")
    String member;

    @Option(names = "--raft-port", paramLabel = "PORT", description = "Its Raft port (default: client port + 1).")
    Integer raftPort;

    @Override
    public Integer call() throws Exception {
      int eq = member.indexOf('=');
      if (eq <= 0 || eq == member.length() - 1) {
        throw usage("expected ID=HOST:PORT, got '" + member + "'");
      }
      String address = member.substring(eq + 1);
      int slash = address.indexOf('/'); // HOST:PORT/RAFTPORT, as --cluster takes it
      String clientAddress = slash < 0 ? address : address.substring(0, slash);
      int colon = clientAddress.lastIndexOf(':');
      if (colon <= 0 || !validPort(clientAddress.substring(colon + 1))
          || (slash >= 0 && !validPort(address.substring(slash + 1)))) {
        throw usage("expected ID=HOST:PORT with a port from 1 to 65535, got '" + member + "'");
      }
      if (raftPort != null && (raftPort < 1 || raftPort > 65535)) {
        throw usage("--raft-port must be from 1 to 65535, got " + raftPort);
      }
      ObjectNode body = Json.object();
      body.put("id", member.substring(0, eq));
      body.put("address", member.substring(eq + 1));
      if (raftPort != null) {
        body.put("raftPort", raftPort);
      }
      LodestarApi.Response res = api().post(LodestarApi.path("v1", "cluster", "members"), body);
      if (json()) {
        printJson(res.json());
      } else {
        out().println("added member " + member.substring(0, eq));
        out().flush();
      }
      return 0;
    }
  }

  private static boolean validPort(String s) {
    if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return false;
    }
    int p = Integer.parseInt(s);
    return p >= 1 && p <= 65535;
  }

  @Command(name = "remove", aliases = "rm", description = "Remove a member; stop its process afterwards.")
  static final class Remove extends Verb {
    @Parameters(index = "0", paramLabel = "ID", description = "The member's id.")
    String id;

    @Override
    public Integer call() throws Exception {
      LodestarApi.Response res = api().delete(LodestarApi.path("v1", "cluster", "members", id));
      if (json()) {
        printJson(res.json());
      } else {
        out().println("removed member " + id);
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "backup", description = "Write a backup of the whole state into <data-dir>/backups/ on the "
      + "node --server names; prints its file.")
  static final class Backup extends Verb {
    @Override
    public Integer call() throws Exception {
      LodestarApi.Response res = api().post(LodestarApi.path("v1", "cluster", "backup"),
          Json.object());
      if (json()) {
        printJson(res.json());
      } else {
        out().println("backup at index " + res.json().path("index").asText() + ": " + res.json().path("file").asText());
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "restore", description = "Replace the whole cluster's state with a backup. The file must be in "
      + "<data-dir>/backups/ on the node --server names (a cluster backup-*.bin or a single node's snapshot-*.bin).")
  static final class Restore extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "The backup's file name.")
    String name;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = Json.object();
      body.put("name", name);
      LodestarApi.Response res = api().post(LodestarApi.path("v1", "cluster", "restore"), body);
      if (json()) {
        printJson(res.json());
      } else {
        out().println("restored " + name + ": " + res.json().path("namespaces").asText() + " namespaces, "
            + res.json().path("instances").asText() + " instances (a log entry of "
            + res.json().path("entryBytes").asLong() + " bytes)");
        out().flush();
      }
      return 0;
    }
  }
}
