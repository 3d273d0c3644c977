package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

/** {@code lodestar secrets rotate}: re-encrypt every secret config under a new key (docs/security.md). */
@Command(name = "secrets", description = "Manage the key secret configs are encrypted with.",
    subcommands = {SecretsCommand.Rotate.class})
final class SecretsCommand extends Verb {
  @Override
  public Integer call() {
    throw usage("missing subcommand (rotate)");
  }

  @Command(name = "rotate", description = "Re-encrypt every secret config under a new key, through the log; "
      + "the old key stays in <data-dir>/secret-keys/ for older backups.")
  static final class Rotate extends Verb {
    @Override
    public Integer call() throws Exception {
      LodestarApi.Response res = api().post(LodestarApi.path("v1", "secrets", "rotate"),
          Json.object());
      if (json()) {
        printJson(res.json());
        return 0;
      }
      JsonNode r = res.json();
      out().println("secret key rotated: " + r.path("oldKeyId").asText() + " -> " + r.path("newKeyId").asText()
          + "; " + r.path("versions").asInt() + " versions of " + r.path("configs").asInt()
          + " secret configs re-encrypted");
      return 0;
    }
  }
}
