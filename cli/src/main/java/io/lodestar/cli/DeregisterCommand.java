package io.lodestar.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "deregister", description = "Remove an instance from a service.")
final class DeregisterCommand extends Verb {
  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name.")
  String service;

  @Parameters(index = "1", paramLabel = "ID", description = "Instance id, as printed by register or listed by instances.")
  String id;

  @Override
  public Integer call() throws Exception {
    LodestarApi.Response res = api().delete(servicePath(service, "instances", id));
    if (json()) {
      printJson(res.json());
    } else {
      out().println("deregistered " + id + " from " + namespace() + "/" + service);
      out().flush();
    }
    return 0;
  }
}
