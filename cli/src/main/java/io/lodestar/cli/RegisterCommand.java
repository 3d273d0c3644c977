package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "register",
    sortOptions = false,
    description = {
        "Register an instance of a service and print its id.",
        "Ephemeral instances (the default) expire unless heartbeated: pass --keepalive to keep this one alive"
            + " until Ctrl-C, which deregisters it. Persistent instances stay until deregistered, and can be"
            + " health-checked by the server with --check.",
    },
    footerHeading = "%nExamples:%n",
    footer = {
        "  lodestar register orders --host 10.0.0.5 --port 8080 --meta zone=eu-1 --meta version=1.4",
        "  lodestar register orders --host 10.0.0.5 --port 8080 --keepalive",
        "  lodestar register billing --host db.internal --port 5432 --persistent --check tcp",
        "  lodestar register web --host 10.0.0.7 --port 80 --persistent --check http:/healthz --check-interval 5",
    })
final class RegisterCommand extends Verb {
  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name.")
  String service;

  @Option(names = "--host", required = true, paramLabel = "HOST", description = "Host name or IP address of the instance.")
  String host;

  @Option(names = "--port", required = true, paramLabel = "PORT", description = "Port of the instance.")
  int port;

  @Option(names = "--id", paramLabel = "ID", description = "Instance id (default: chosen by the server). Registering an existing id updates it.")
  String id;

  @Option(names = "--weight", paramLabel = "N", description = "Weight, 0–10000 (default: 100).")
  Integer weight;

  @Option(names = {"-m", "--meta"}, paramLabel = "KEY=VALUE", mapFallbackValue = "",
      description = "Metadata entry; repeat for more.")
  Map<String, String> metadata = new LinkedHashMap<>();

  @Option(names = "--protocol", paramLabel = "NAME", description = "Protocol, e.g. http, grpc.")
  String protocol;

  @Option(names = "--persistent", description = "Persistent instance: stays until deregistered (default: ephemeral).")
  boolean persistent;

  @Option(names = "--ttl", paramLabel = "SECONDS", description = "Ephemeral only: seconds without a heartbeat before the instance expires (default: server's, 10).")
  Integer ttl;

  @Option(names = "--check", paramLabel = "tcp|http[:/PATH]", converter = CheckConverter.class,
      description = "Server-side health check: tcp (connect), or http:/PATH (GET must answer 2xx; path defaults to /).")
  ObjectNode check;

  @Option(names = "--check-interval", paramLabel = "SECONDS", description = "Seconds between checks (default: server's, 10).")
  Integer checkInterval;

  @Option(names = "--check-timeout", paramLabel = "SECONDS", description = "Seconds before a check fails (default: server's, 2).")
  Integer checkTimeout;

  @Option(names = "--keepalive", description = "Stay in the foreground heartbeating the (ephemeral) instance; deregister it on Ctrl-C.")
  boolean keepalive;

  @Option(names = "--heartbeat-interval", paramLabel = "SECONDS",
      description = "With --keepalive: seconds between heartbeats (default: a third of the TTL).")
  Integer heartbeatInterval;

  @Override
  public Integer call() throws Exception {
    if (keepalive && persistent) {
      throw usage("--keepalive applies to ephemeral instances only; drop --persistent or --keepalive");
    }
    if (ttl != null && persistent) {
      throw usage("--ttl applies to ephemeral instances only; persistent instances do not expire");
    }
    if (heartbeatInterval != null && !keepalive) {
      throw usage("--heartbeat-interval needs --keepalive");
    }
    if (heartbeatInterval != null && heartbeatInterval < 1) {
      throw usage("--heartbeat-interval must be at least 1 second");
    }
    if ((checkInterval != null || checkTimeout != null) && check == null) {
      throw usage("--check-interval and --check-timeout need --check");
    }
    ObjectNode body = body(id);
    LodestarApi.Response res = api().post(servicePath(service, "instances"), body);
    JsonNode instance = res.json();
    String registeredId = instance.path("id").asText(id == null ? "" : id);
    if (json()) {
      printJson(instance);
    } else {
      out().println(registeredId);
      out().flush();
    }
    if (!keepalive) {
      return 0;
    }
    int ttlSeconds = instance.path("ttlSeconds").asInt(ttl == null ? 10 : ttl);
    int every = heartbeatInterval != null ? heartbeatInterval : Math.max(1, ttlSeconds / 3);
    return new Keepalive(this, registeredId, every).run();
  }

  ObjectNode body(String withId) {
    ObjectNode b = Json.object();
    b.put("host", host);
    b.put("port", port);
    if (withId != null) {
      b.put("id", withId);
    }
    if (protocol != null) {
      b.put("protocol", protocol);
    }
    if (weight != null) {
      b.put("weight", weight);
    }
    if (!metadata.isEmpty()) {
      ObjectNode m = b.putObject("metadata");
      metadata.forEach(m::put);
    }
    b.put("ephemeral", !persistent);
    if (ttl != null) {
      b.put("ttlSeconds", ttl);
    }
    if (check != null) {
      ObjectNode c = check.deepCopy();
      if (checkInterval != null) {
        c.put("intervalSeconds", checkInterval);
      }
      if (checkTimeout != null) {
        c.put("timeoutSeconds", checkTimeout);
      }
      b.set("check", c);
    }
    return b;
  }

  /** {@code tcp}, {@code http}, {@code http:/path} → the contract's check object. */
  static final class CheckConverter implements CommandLine.ITypeConverter<ObjectNode> {
    @Override
    public ObjectNode convert(String value) {
      ObjectNode c = Json.object();
      String v = value.trim();
      String lower = v.toLowerCase(java.util.Locale.ROOT);
      if (lower.equals("tcp")) {
        c.put("type", "tcp");
        return c;
      }
      if (lower.equals("http") || lower.startsWith("http:")) {
        String path = v.length() > 5 ? v.substring(5) : "/";
        if (path.startsWith("//")) {
          throw new CommandLine.TypeConversionException(
              "'" + value + "' is not a check: give a path, not a URL, e.g. http:/healthz (the instance's host and port are used)");
        }
        if (!path.startsWith("/")) {
          path = "/" + path;
        }
        c.put("type", "http");
        c.put("path", path);
        return c;
      }
      throw new CommandLine.TypeConversionException("'" + value + "' is not a check: use tcp, http or http:/PATH");
    }
  }
}
