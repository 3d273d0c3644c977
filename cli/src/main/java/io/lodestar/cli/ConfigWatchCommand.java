package io.lodestar.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "watch", description = {"Print a config, then every new version as it is published, each after a"
    + " '=== NS/GROUP/NAME version N ===' line. Runs until Ctrl-C or --count changes.",
    "Uses the server's long poll; if the server goes away, says so on stderr and keeps retrying."})
final class ConfigWatchCommand extends ConfigVerb {
  @Option(names = {"-c", "--count"}, paramLabel = "N", description = "Exit after N changes.")
  Integer count;

  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "30",
      description = "Longest a single long poll is held by the server (default: ${DEFAULT-VALUE}).")
  int waitSeconds;

  @Option(names = "--client-id", paramLabel = "ID", description = "Watch as this client (gray selection).")
  String clientId;

  @Option(names = "--labels", paramLabel = "K=V,...", description = "Watch as a client with these labels.")
  String labels;

  @Override
  public Integer call() throws Exception {
    if (count != null && count < 1) {
      throw usage("--count must be at least 1");
    }
    if (waitSeconds < 1 || waitSeconds > 300) {
      throw usage("--wait must be within 1–300 seconds");
    }
    Duration pollTimeout = Duration.ofSeconds(waitSeconds + main().timeoutSeconds);
    long index = -1;  // -1: print the current version first
    int changes = 0;
    String trouble = null;
    long backoffMillis = 500;
    while (count == null || changes < count) {
      Map<String, String> q = new LinkedHashMap<>();
      if (index >= 0) {
        q.put("index", Long.toString(index));
        q.put("wait", waitSeconds + "s");
      }
      if (clientId != null) {
        q.put("clientId", clientId);
      }
      if (labels != null) {
        q.put("labels", labels);
      }
      LodestarApi.RawResponse r;
      try {
        r = api().raw("GET", configPath(), q, null, Map.of(), pollTimeout);
      } catch (CliException e) {
        // only once the first read worked, as `watch` does: a server that is not there at the start
        // (a wrong --server) is exit 3 at once, not a retry loop that never ends
        boolean transientError = index >= 0 && (e instanceof CliException.Unreachable
            || (e instanceof CliException.ServerError se && (se.status >= 500 || se.status == 404)));
        if (!transientError) {
          throw e;
        }
        if (!e.getMessage().equals(trouble)) {
          trouble = e.getMessage();
          err().println("lodestar: " + trouble + "; retrying");
          err().flush();
        }
        Thread.sleep(backoffMillis);  // a pause between retries, not synchronisation
        backoffMillis = Math.min(backoffMillis * 2, 2000);
        continue;
      }
      trouble = null;
      backoffMillis = 500;
      long version = Long.parseLong(r.header(VERSION_HEADER));
      if (r.status() == 304) {
        index = version;
        continue;
      }
      boolean first = index < 0;
      index = version;
      out().println("=== " + where() + " version " + version
          + ("true".equals(r.header("X-Lodestar-Config-Gray")) ? " (gray)" : "") + " ===");
      String text = new String(r.body(), StandardCharsets.UTF_8);
      out().print(text.endsWith("\n") || text.isEmpty() ? text : text + "\n");
      out().flush();
      if (!first) {
        changes++;
      }
    }
    return 0;
  }
}
