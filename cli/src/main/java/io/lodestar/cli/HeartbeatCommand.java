package io.lodestar.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "heartbeat",
    description = {"Send one heartbeat for an ephemeral instance (for scripts; see register --keepalive).",
        "Exits 1 if the server does not know the instance (it expired or was never registered)."})
final class HeartbeatCommand extends Verb {
  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name.")
  String service;

  @Parameters(index = "1", paramLabel = "ID", description = "Instance id.")
  String id;

  @Override
  public Integer call() throws Exception {
    LodestarApi.Response res = api().put(servicePath(service, "instances", id, "heartbeat"), null);
    if (json()) {
      printJson(res.json());
    }
    return 0;
  }
}
