package io.lodestar.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Parameters;

/** A config verb: names one config as GROUP NAME within the namespace. */
abstract class ConfigVerb extends Verb {
  static final String VERSION_HEADER = "X-Lodestar-Config-Version";

  @Parameters(index = "0", paramLabel = "GROUP", description = "Config group.")
  String group;

  @Parameters(index = "1", paramLabel = "NAME", description = "Config name.")
  String name;

  /** {@code /v1/namespaces/{ns}/configs/{group}/{name}/...more}, each segment encoded. */
  String configPath(String... more) {
    List<String> segs = new ArrayList<>(List.of("v1", "namespaces", namespace(), "configs", group, name));
    segs.addAll(Arrays.asList(more));
    return LodestarApi.path(segs.toArray(String[]::new));
  }

  String where() {
    return namespace() + "/" + group + "/" + name;
  }

  Duration timeout() {
    return Duration.ofSeconds(main().timeoutSeconds);
  }

  LodestarApi.RawResponse raw(String method, String path, Map<String, String> query, byte[] body,
      Map<String, String> headers) throws InterruptedException {
    return api().raw(method, path, query, body, headers, timeout());
  }

  /** Parses a JSON answer of a raw call. */
  static com.fasterxml.jackson.databind.JsonNode json(LodestarApi.RawResponse r) {
    try {
      return Json.read(r.body());
    } catch (java.io.IOException e) {
      throw new CliException(CliException.SERVER_ERROR, "the server answered with something that is not JSON");
    }
  }

  /** The user to record as author: $USER, else "cli". */
  String author() {
    String u = main().env.get("USER");
    return u == null || u.isBlank() ? "cli" : u;
  }
}
