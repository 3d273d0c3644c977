package io.lodestar.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "rules",
    description = {"Show, set and remove governance rules of a service (or, with --defaults, of the namespace).",
        "KIND is one of loadbalance, route, circuitbreaker, ratelimit, lane (lane: with --defaults only); docs/api.md gives each kind's JSON."},
    subcommands = {RulesCommand.Get.class, RulesCommand.PutRule.class, RulesCommand.DeleteRule.class})
final class RulesCommand extends Verb {
  static final List<String> KINDS = List.of("loadbalance", "route", "circuitbreaker", "ratelimit", "lane");

  @Override
  public Integer call() {
    throw usage("missing subcommand: get, put or delete");
  }

  /** Shared by the subcommands: where the rules live. */
  abstract static class RuleVerb extends Verb {
    @Option(names = "--defaults", description = "Target the namespace's default rules instead of a service's.")
    boolean defaults;

    /** Splits positionals into (service or null, the rest), by --defaults. */
    String[] target(List<String> args, int after) {
      List<String> rest = new ArrayList<>(args);
      String service = null;
      if (!defaults) {
        if (rest.isEmpty()) {
          throw usage("missing SERVICE (or --defaults for the namespace's rules)");
        }
        service = rest.remove(0);
      }
      if (rest.size() > after) {
        throw usage("unexpected argument '" + rest.get(after) + "'");
      }
      String[] out = new String[after + 1];
      out[0] = service;
      for (int i = 0; i < after; i++) {
        out[i + 1] = i < rest.size() ? rest.get(i) : null;
      }
      return out;
    }

    String kind(String k) {
      if (k == null) {
        throw usage("missing KIND: one of " + String.join(", ", KINDS));
      }
      if (!KINDS.contains(k)) {
        throw usage("unknown KIND '" + k + "': one of " + String.join(", ", KINDS));
      }
      return k;
    }

    String rulesPath(String service, String... more) {
      List<String> segs = new ArrayList<>(List.of("v1", "namespaces", namespace()));
      if (service != null) {
        segs.add("services");
        segs.add(service);
      }
      segs.add("rules");
      segs.addAll(List.of(more));
      return LodestarApi.path(segs.toArray(String[]::new));
    }

    int print(JsonNode json) {
      printJson(json);
      return 0;
    }
  }

  @Command(name = "get", aliases = "show", description = "Print rules as JSON: every kind, or one KIND.")
  static final class Get extends RuleVerb {
    @Parameters(paramLabel = "[SERVICE] [KIND]", arity = "0..2", description = "Service (unless --defaults), then an optional kind.")
    List<String> args = new ArrayList<>();

    @Option(names = "--effective", description = "The rules SDKs receive: the service's own, completed by the namespace's defaults.")
    boolean effective;

    @Override
    public Integer call() throws Exception {
      String[] t = target(args, 1);
      if (t[1] == null) {
        JsonNode all = api().get(rulesPath(t[0]), Map.of()).json();
        return print(effective && all.has("effective") ? all.get("effective") : all);
      }
      Map<String, String> q = effective && t[0] != null ? Map.of("effective", "true") : Map.of();
      return print(api().get(rulesPath(t[0], kind(t[1])), q).json());
    }
  }

  @Command(name = "put", aliases = "set", description = {"Set one KIND of rule from JSON given inline, in a file (-f), or on stdin (-f -).",
      "Example: lodestar rules put orders loadbalance '{\"policy\":\"adaptive\"}'"})
  static final class PutRule extends RuleVerb {
    @Parameters(paramLabel = "[SERVICE] KIND [JSON]", arity = "1..3", description = "Service (unless --defaults), the kind, then the rule's JSON unless -f is used.")
    List<String> args = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the rule's JSON from FILE ('-' for stdin).")
    String file;

    @Option(names = "--if-version", paramLabel = "N", description = "Only if the rule's current version is N (else the server answers 409).")
    Long ifVersion;

    @Override
    public Integer call() throws Exception {
      String[] t = target(args, 2);
      String kind = kind(t[1]);
      String text = t[2];
      if ((text == null) == (file == null)) {
        throw usage("give the rule's JSON either inline or with -f, once");
      }
      if (file != null) {
        text = new String(readInput(file), StandardCharsets.UTF_8);
      }
      JsonNode body;
      try {
        body = Json.read(text);
      } catch (JsonProcessingException e) {
        throw new CliException(CliException.USAGE, "the rule is not valid JSON: " + e.getOriginalMessage());
      }
      if (!body.isObject()) {
        throw new CliException(CliException.USAGE, "the rule is not valid JSON: "
            + (body.isMissingNode() ? "it is empty" : "expected an object"));
      }
      String path = rulesPath(t[0], kind) + (ifVersion == null ? "" : "?version=" + ifVersion);
      JsonNode stored = api().put(path, body).json();
      if (json()) {
        return print(stored);
      }
      out().println("set " + kind + " rule of " + (t[0] == null ? "namespace " + namespace() : t[0])
          + " (version " + stored.path("version").asText("?") + ")");
      out().flush();
      return 0;
    }
  }

  @Command(name = "delete", aliases = "rm", description = "Remove one KIND of rule.")
  static final class DeleteRule extends RuleVerb {
    @Parameters(paramLabel = "[SERVICE] KIND", arity = "1..2", description = "Service (unless --defaults), then the kind.")
    List<String> args = new ArrayList<>();

    @Option(names = "--if-version", paramLabel = "N", description = "Only if the rule's current version is N.")
    Long ifVersion;

    @Override
    public Integer call() throws Exception {
      String[] t = target(args, 1);
      String kind = kind(t[1]);
      JsonNode res = api().delete(rulesPath(t[0], kind) + (ifVersion == null ? "" : "?version=" + ifVersion)).json();
      if (json()) {
        return print(res);
      }
      out().println("deleted " + kind + " rule of " + (t[0] == null ? "namespace " + namespace() : t[0]));
      out().flush();
      return 0;
    }
  }
}
