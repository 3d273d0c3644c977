package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "namespaces",
    aliases = "ns",
    description = "List namespaces (the default), or create, show and delete one.",
    subcommands = {
        NamespacesCommand.ListNamespaces.class,
        NamespacesCommand.Create.class,
        NamespacesCommand.Show.class,
        NamespacesCommand.Delete.class,
    })
final class NamespacesCommand extends Verb {
  @Override
  public Integer call() throws Exception {
    return list(this);
  }

  static int list(Verb v) throws InterruptedException {
    LodestarApi.Response res = v.api().get(LodestarApi.path("v1", "namespaces"), Map.of());
    if (v.json()) {
      v.printJson(res.json());
      return 0;
    }
    Table t = new Table("NAMESPACE", "CREATED", "DESCRIPTION");
    for (JsonNode n : res.json().path("namespaces")) {
      t.row(n.path("name").asText(), Table.time(n.path("createdAt")), n.path("description").asText());
    }
    t.print(v.out());
    return 0;
  }

  @Command(name = "list", aliases = "ls", description = "List namespaces.")
  static final class ListNamespaces extends Verb {
    @Override
    public Integer call() throws Exception {
      return list(this);
    }
  }

  @Command(name = "create", description = "Create a namespace.")
  static final class Create extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "Namespace name.")
    String name;

    @Option(names = {"-d", "--description"}, paramLabel = "TEXT", description = "What the namespace is for.")
    String description;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = Json.object();
      body.put("name", name);
      if (description != null) {
        body.put("description", description);
      }
      LodestarApi.Response res = api().post(LodestarApi.path("v1", "namespaces"), body);
      if (json()) {
        printJson(res.json());
      } else {
        out().println("created namespace " + name);
        out().flush();
      }
      return 0;
    }
  }

  @Command(name = "show", aliases = "get", description = "Show one namespace.")
  static final class Show extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "Namespace name.")
    String name;

    @Override
    public Integer call() throws Exception {
      LodestarApi.Response res = api().get(LodestarApi.path("v1", "namespaces", name), Map.of());
      if (json()) {
        printJson(res.json());
        return 0;
      }
      JsonNode n = res.json();
      out().println("name:        " + n.path("name").asText(name));
      out().println("description: " + n.path("description").asText(""));
      String created = Table.time(n.path("createdAt"));
      out().println("created:     " + (created.isEmpty() ? "-" : created));
      if (n.has("services")) {
        out().println("services:    " + n.path("services").asText());
      }
      out().flush();
      return 0;
    }
  }

  @Command(name = "delete", aliases = "rm", description = "Delete a namespace; the server refuses while it still has services.")
  static final class Delete extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "Namespace name.")
    String name;

    @Override
    public Integer call() throws Exception {
      LodestarApi.Response res = api().delete(LodestarApi.path("v1", "namespaces", name));
      if (json()) {
        printJson(res.json());
      } else {
        out().println("deleted namespace " + name);
        out().flush();
      }
      return 0;
    }
  }
}
