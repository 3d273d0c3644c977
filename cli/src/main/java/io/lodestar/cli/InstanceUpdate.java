package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
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

  @Command(name = "weight", description = "Set an instance's weight (0–10000).")
  static final class Weight extends InstanceUpdate {
    @Parameters(index = "2", paramLabel = "WEIGHT", description = "New weight, 0–10000.")
    long weight;

    @Override
    void fill(ObjectNode body) {
      body.put("weight", weight);
    }

    @Override
    String done(JsonNode i) {
      return "weight of " + id + " of " + namespace() + "/" + service + " is " + i.path("weight").asInt();
    }
  }
}
