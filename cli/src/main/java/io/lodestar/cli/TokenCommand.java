package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "token",
    description = "Manage API tokens (admin): create one with policies, list them, revoke one.",
    subcommands = {
        TokenCommand.Create.class,
        TokenCommand.ListTokens.class,
        TokenCommand.Revoke.class,
    })
final class TokenCommand extends Verb {
  @Override
  public Integer call() throws Exception {
    return list(this);
  }

  static int list(Verb v) throws InterruptedException {
    LodestarApi.Response res = v.api().get(LodestarApi.path("v1", "tokens"), Map.of());
    if (v.json()) {
      v.printJson(res.json());
      return 0;
    }
    Table t = new Table("TOKEN", "POLICIES", "CREATED");
    for (JsonNode n : res.json().path("tokens")) {
      List<String> p = new java.util.ArrayList<>();
      n.path("policies").forEach(x -> p.add(x.asText()));
      t.row(n.path("name").asText(), String.join(",", p), Table.time(n.path("created")));
    }
    t.print(v.out());
    return 0;
  }

  @Command(name = "create", description = "Create a token and print its secret (shown this once).")
  static final class Create extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "Token name (who or what uses it).")
    String name;

    @Option(names = "--policy", required = true, split = ",", paramLabel = "P",
        description = "What it may do: read:NS, write:NS, secrets:NS (NS may hold *), admin; comma-separated or repeated.")
    List<String> policies;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = Json.object().put("name", name);
      ArrayNode p = body.putArray("policies");
      policies.forEach(p::add);
      LodestarApi.Response res = api().post(LodestarApi.path("v1", "tokens"), body);
      if (json()) {
        printJson(res.json());
      } else {
        // the secret alone on stdout, so that `TOKEN=$(lodestar token create ...)` works
        out().println(res.json().path("secret").asText());
        out().flush();
        err().println("created token " + name + " (" + String.join(",", policies)
            + "); the secret above is not shown again");
        err().flush();
      }
      return 0;
    }
  }

  @Command(name = "list", aliases = "ls", description = "List tokens: names and policies, never secrets.")
  static final class ListTokens extends Verb {
    @Override
    public Integer call() throws Exception {
      return list(this);
    }
  }

  @Command(name = "revoke", description = "Revoke a token: it stops working at once, and its open streams close.")
  static final class Revoke extends Verb {
    @Parameters(index = "0", paramLabel = "NAME", description = "Token name.")
    String name;

    @Override
    public Integer call() throws Exception {
      LodestarApi.Response res = api().delete(LodestarApi.path("v1", "tokens", name));
      if (json()) {
        printJson(res.json());
      } else {
        out().println("revoked token " + name);
        out().flush();
      }
      return 0;
    }
  }
}
