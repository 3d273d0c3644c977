package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gray", description = {"Gray release of a config. Without an action: show the release, the candidate,"
    + " its selector and which client holds which version.",
    "--publish FILE sends a candidate to the clients chosen by --labels, --addresses and/or --percent (any match);"
    + " --promote makes it the release; --abort returns everyone to the release."})
final class ConfigGrayCommand extends ConfigVerb {
  static final class Action {
    @Option(names = "--publish", paramLabel = "FILE", description = "Publish FILE (- for stdin) as the candidate.")
    String publish;

    @Option(names = "--promote", description = "The candidate becomes the release.")
    boolean promote;

    @Option(names = "--abort", description = "Everyone returns to the release.")
    boolean abort;
  }

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Action action;

  @Option(names = "--labels", paramLabel = "K=V,...", description = "Clients with all these labels get the candidate.")
  String labels;

  @Option(names = "--addresses", paramLabel = "IP,...", description = "Clients at these addresses get the candidate.")
  String addresses;

  @Option(names = "--percent", paramLabel = "P", description = "This percentage of clients (by a stable hash of their id).")
  Integer percent;

  @Option(names = "--format", paramLabel = "FORMAT", description = "text, properties, yaml or json.")
  String format;

  @Option(names = {"-m", "--comment"}, paramLabel = "TEXT", description = "Why this candidate.")
  String comment;

  @Override
  public Integer call() throws Exception {
    if (action == null || action.publish == null) {
      // these describe a candidate: taken silently elsewhere, an operator would believe them applied
      String stray = labels != null ? "--labels" : addresses != null ? "--addresses" : percent != null ? "--percent"
          : format != null ? "--format" : comment != null ? "--comment" : null;
      if (stray != null) {
        throw usage(stray + " goes with --publish (it describes the candidate)");
      }
    }
    if (action == null) {
      return status();
    }
    Map<String, String> q = new LinkedHashMap<>();
    q.put("author", author());
    JsonNode res;
    String did;
    if (action.publish != null) {
      if (labels != null) {
        q.put("labels", labels);
      }
      if (addresses != null) {
        q.put("addresses", addresses);
      }
      if (percent != null) {
        q.put("percent", percent.toString());
      }
      if (format != null) {
        q.put("format", format);
      }
      if (comment != null) {
        q.put("comment", comment);
      }
      res = json(raw("PUT", configPath("gray"), q, read(action.publish), Map.of()));
      did = "published gray candidate of " + where() + " as version ";
    } else {
      res = json(raw("POST", configPath("gray", action.promote ? "promote" : "abort"), q, new byte[0], Map.of()));
      did = (action.promote ? "promoted the candidate of " + where() + "; the release is now version "
          : "aborted the gray release of " + where() + "; everyone is on version ");
    }
    if (json()) {
      printJson(res);
    } else {
      out().println(did + res.path("version").asLong());
    }
    return 0;
  }

  private int status() throws InterruptedException {
    JsonNode s = api().get(configPath("gray"), Map.of()).json();
    if (json()) {
      printJson(s);
      return 0;
    }
    out().println(where() + ": release version " + s.path("releasedVersion").asLong());
    if (s.path("active").asBoolean()) {
      JsonNode sel = s.path("selector");
      StringBuilder b = new StringBuilder();
      for (Iterator<Map.Entry<String, JsonNode>> it = sel.path("labels").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        b.append(b.isEmpty() ? "labels " : ",").append(e.getKey()).append('=').append(e.getValue().asText());
      }
      if (!sel.path("addresses").isEmpty()) {
        b.append(b.isEmpty() ? "" : "; ").append("addresses ");
        sel.path("addresses").forEach(a -> b.append(a.asText()).append(' '));
      }
      if (sel.path("percent").asInt() > 0) {
        b.append(b.isEmpty() ? "" : "; ").append(sel.path("percent").asInt()).append("% of clients");
      }
      out().println("gray candidate version " + s.path("candidateVersion").asLong() + " for " + b.toString().strip()
          + " (by " + s.path("author").asText() + " at " + s.path("startedAt").asText() + ")");
    } else {
      out().println("no gray release in progress");
    }
    Table t = new Table("CLIENT", "ADDRESS", "VERSION", "GRAY", "VIA", "SEEN");
    for (JsonNode c : s.path("clients")) {
      t.row(c.path("clientId").asText(), c.path("address").asText(), c.path("version").asLong(),
          c.path("gray").asBoolean() ? "yes" : "", c.path("via").asText(), c.path("seenAt").asText());
    }
    t.print(out());
    return 0;
  }

  private byte[] read(String file) {
    return readInput(file);
  }
}
