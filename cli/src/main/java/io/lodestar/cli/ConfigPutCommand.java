package io.lodestar.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "put", description = {"Publish a new version of a config from FILE, or from standard input when FILE is"
    + " - or missing. Prints the new version.",
    "The server checks the content against the format (from --format, else the config's, else the name's extension)."})
final class ConfigPutCommand extends ConfigVerb {
  @Parameters(index = "2", arity = "0..1", paramLabel = "FILE", description = "File to publish; - or none for stdin.")
  String file;

  @Option(names = "--format", paramLabel = "FORMAT", description = "text, properties, yaml or json.")
  String format;

  @Option(names = {"-m", "--comment"}, paramLabel = "TEXT", description = "Why this version.")
  String comment;

  @Option(names = "--secret", description = "Encrypt at rest and mask in listings (on the first publish).")
  boolean secret;

  @Option(names = "--if-match", paramLabel = "VERSION",
      description = "Publish only if the latest version is VERSION (0: only if the config does not exist).")
  Long ifMatch;

  @Option(names = "--keep", paramLabel = "N", description = "How many versions the config keeps (1–1000).")
  Integer keep;

  @Override
  public Integer call() throws Exception {
    byte[] content = read();
    Map<String, String> q = new LinkedHashMap<>();
    if (format != null) {
      q.put("format", format);
    }
    if (comment != null) {
      q.put("comment", comment);
    }
    if (secret) {
      q.put("secret", "true");
    }
    if (keep != null) {
      q.put("keep", keep.toString());
    }
    q.put("author", author());
    Map<String, String> h = ifMatch == null ? Map.of() : Map.of("If-Match", ifMatch.toString());
    var r = raw("PUT", configPath(), q, content, h);
    if (json()) {
      printJson(json(r));
    } else {
      out().println("published " + where() + " version " + json(r).path("version").asLong());
    }
    return 0;
  }

  private byte[] read() {
    return readInput(file == null ? "-" : file);
  }
}
