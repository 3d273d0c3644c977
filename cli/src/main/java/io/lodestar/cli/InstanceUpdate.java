package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * An operator's change to a registered instance (PATCH …/instances/{id}): isolate it (out of
 * discovery, still registered), restore it, or set its weight.
 */
abstract class InstanceUpdate extends Verb {
  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name.")
  String service;

  @Parameters(index = "1", paramLabel = "ID", description = "Instance id, as listed by instances.")
  String id;

  abstract void fill(ObjectNode body);

  abstract String done(JsonNode instance);

  @Override
  public Integer call() throws Exception {
    ObjectNode body = Json.object();
    fill(body);
    JsonNode instance = api().patch(servicePath(service, "instances", id), body).json();
    if (json()) {
      printJson(instance);
    } else {
      out().println(done(instance));
      out().flush();
    }
    return 0;
  }

  @Command(name = "isolate", description = "Take an instance out of discovery without deregistering it.")
  static final class Isolate extends InstanceUpdate {
    @Override
    void fill(ObjectNode body) {
      body.put("isolated", true);
    }

    @Override
    String done(JsonNode i) {
      return "isolated " + id + " of " + namespace() + "/" + service + " (still registered; restore to undo)";
    }
  }

  @Command(name = "restore", description = "Put an isolated instance back into discovery.")
  static final class Restore extends InstanceUpdate {
    @Override
    void fill(ObjectNode body) {
      body.put("isolated", false);
    }

    @Override
    String done(JsonNode i) {
      return "restored " + id + " of " + namespace() + "/" + service + " to discovery";
    }
  }

  @Command(name = "weight", description = {"Set an instance's weight (0–10000), or hand it back with --restore.",
      "An operator's weight holds when the instance registers again (an SDK reconnecting, an app restarting)."})
  static final class Weight extends InstanceUpdate {
    @Parameters(index = "2", arity = "0..1", paramLabel = "WEIGHT", description = "New weight, 0–10000.")
    Long weight;

    @Option(names = "--restore", description = "Give the instance back the weight it registered with.")
    boolean restore;

    @Override
    void fill(ObjectNode body) {
      if (restore == (weight != null)) {
        throw usage(restore ? "give a WEIGHT or --restore, not both" : "missing WEIGHT (or --restore)");
      }
      if (restore) {
        body.put("restoreWeight", true);
      } else {
        body.put("weight", weight);
      }
    }

    @Override
    String done(JsonNode i) {
      String whose = i.has("registeredWeight")
          ? " (the operator's; it registered " + i.path("registeredWeight").asInt() + ")" : " (its own)";
      return "weight of " + id + " of " + namespace() + "/" + service + " is " + i.path("weight").asInt() + whose;
    }
  }
}
