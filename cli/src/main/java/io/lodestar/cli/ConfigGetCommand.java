package io.lodestar.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "get", description = {"Print a config's content, exactly as stored (the release, an older --version, or"
    + " what a client with --client-id/--labels would get during a gray release). The version goes to stderr."})
final class ConfigGetCommand extends ConfigVerb {
  @Option(names = "--version", paramLabel = "N", description = "An older version.")
  Long version;

  @Option(names = "--client-id", paramLabel = "ID", description = "Read as this client (gray selection).")
  String clientId;

  @Option(names = "--labels", paramLabel = "K=V,...", description = "Read as a client with these labels (gray selection).")
  String labels;

  @Override
  public Integer call() throws Exception {
    Map<String, String> q = new LinkedHashMap<>();
    if (version != null) {
      q.put("version", version.toString());
    }
    if (clientId != null) {
      q.put("clientId", clientId);
    }
    if (labels != null) {
      q.put("labels", labels);
    }
    LodestarApi.RawResponse r = raw("GET", configPath(), q, null, Map.of());
    out().write(r.body());
    out().flush();
    err().println("# " + where() + " version " + r.header(VERSION_HEADER)
        + ("true".equals(r.header("X-Lodestar-Config-Gray")) ? " (gray candidate)" : ""));
    return 0;
  }
}
