package io.lodestar.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code lodestar} command line. Every verb talks to a server over its REST API.
 *
 * <p>Exit codes: 0 success, 1 the server refused the request (4xx/5xx), 2 usage error, 3 the
 * server could not be reached, 130 interrupted.
 */
@Command(
    name = "lodestar",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Command line for a Lodestar server: register and discover service instances, watch changes, manage namespaces and configs.",
    synopsisSubcommandLabel = "COMMAND",
    footerHeading = "%nExit codes:%n",
    footer = {
        "  0  success",
        "  1  the server refused the request (its message and field are shown)",
        "  2  usage error",
        "  3  the server could not be reached",
        "",
        "The server address comes from --server, else $LODESTAR_SERVER, else " + ServerAddress.DEFAULT + ".",
        "The caller's token comes from --token, else $LODESTAR_TOKEN (servers started with --auth need one).",
    })
public final class Main implements Runnable {
  static final int INTERRUPTED = 130;

  /**
   * Every verb, in the order {@code --help} lists them. They are added by hand, not through
   * {@code @Command(subcommands)}: picocli reflects over each command class it is given, and for
   * the seventeen verbs that is the largest share of a call's CPU; a call whose verb is plain to
   * see ({@link VerbLookup}) builds that verb only (docs/cli.md, "Start time").
   */
  static final List<Class<?>> VERBS = List.of(
      RegisterCommand.class,
      DeregisterCommand.class,
      InstanceUpdate.Isolate.class,
      InstanceUpdate.Restore.class,
      InstanceUpdate.Weight.class,
      HeartbeatCommand.class,
      InstancesCommand.class,
      ServicesCommand.class,
      WatchCommand.class,
      NamespacesCommand.class,
      ConfigCommand.class,
      RulesCommand.class,
      ClusterCommand.class,
      SecretsCommand.class,
      TopCommand.class,
      TokenCommand.class,
      AuditCommand.class,
      CommandLine.HelpCommand.class);

  @Spec CommandSpec spec;

  @Option(names = "--server", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT",
      description = "Server address (default: $LODESTAR_SERVER, else " + ServerAddress.DEFAULT + "). Also accepts http(s)://host:port.")
  String server;

  @Option(names = "--json", scope = ScopeType.INHERIT,
      description = "Print the server's JSON instead of text, for scripts.")
  boolean json;

  @Option(names = {"-n", "--namespace"}, scope = ScopeType.INHERIT, paramLabel = "NAMESPACE", defaultValue = "default",
      description = "Namespace (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(names = "--tls-ca", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Trust the server certificates this PEM CA file issues, and speak https (default: $LODESTAR_TLS_CA; "
          + "an https:// --server without it trusts the JVM's store).")
  java.nio.file.Path tlsCa;

  @Option(names = "--tls-cert", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Mutual TLS: this PEM client certificate, with --tls-key (default: $LODESTAR_TLS_CERT).")
  java.nio.file.Path tlsCert;

  @Option(names = "--tls-key", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "The PKCS#8 PEM key of --tls-cert (default: $LODESTAR_TLS_KEY).")
  java.nio.file.Path tlsKey;

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
      description = "The caller's API token, sent on every request (default: $LODESTAR_TOKEN; none on a server without --auth).")
  String token;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS", defaultValue = "10",
      description = "Seconds to wait for each request (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  /** The process environment; replaced in tests. */
  Map<String, String> env = System.getenv();
  PrintStream out;
  PrintStream err;
  /** Standard input, for {@code config put -}; replaced in tests. */
  java.io.InputStream in = System.in;
  private LodestarApi api;

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command line; returns the exit code. Never throws and never prints a stack trace. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    return run(args, out, err, env, System.in);
  }

  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env, java.io.InputStream in) {
    String[] argv = args == null ? new String[0] : args;
    Class<?> verb = VerbLookup.verbOf(argv);
    if (verb != null) {
      int code = run(argv, out, err, env, in, verb);
      if (code != RETRY_WITH_EVERY_VERB) {
        return code;
      }
    }
    return run(argv, out, err, env, in, null);
  }

  /** A usage error at the root, seen before anything ran: its message lists every verb, so it is built again with all. */
  private static final int RETRY_WITH_EVERY_VERB = Integer.MIN_VALUE;

  /** @param verb the one verb to build, or null for all of them */
  private static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env,
      java.io.InputStream in, Class<?> verb) {
    Main main = new Main();
    main.env = env;
    main.in = in;
    main.out = out;
    main.err = err;
    CommandLine cl = tree(main, verb);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    boolean[] executing = {false};
    cl.setExecutionStrategy(parsed -> {
      executing[0] = true;
      refuseEmptyNames(parsed);
      return new CommandLine.RunLast().execute(parsed);
    });
    cl.setParameterExceptionHandler((e, a) -> verb != null && !executing[0] && e.getCommandLine() == cl
        ? RETRY_WITH_EVERY_VERB : usageError(e, a));
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> failure(e, err));
    try {
      return cl.execute(args);
    } catch (RuntimeException | Error e) {  // defensive: handlers above should catch everything
      return failure(e, err);
    } finally {
      out.flush();
      err.flush();
    }
  }

  private static final java.util.Set<String> NAMED_PARAMETERS = java.util.Set.of("SERVICE", "ID", "NAME", "NAMESPACE", "GROUP");
  private static final java.util.Set<String> NAMED_OPTIONS =
      java.util.Set.of("--namespace", "--server", "--id", "--host", "--group", "--client-id");

  /**
   * An empty name would drop a segment of the URL path and reach another resource (an empty
   * SERVICE made {@code instances ''} ask for a service called "instances"): refused before any call.
   */
  private static void refuseEmptyNames(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult r = parsed; r != null; r = r.subcommand()) {
      for (CommandLine.Model.PositionalParamSpec p : r.matchedPositionals()) {
        if (NAMED_PARAMETERS.contains(p.paramLabel())) {
          refuseEmpty(r, p.originalStringValues(), p.paramLabel());
        }
      }
      for (CommandLine.Model.OptionSpec o : r.matchedOptions()) {
        if (NAMED_OPTIONS.contains(o.longestName())) {
          refuseEmpty(r, o.originalStringValues(), o.longestName());
        }
      }
    }
  }

  private static void refuseEmpty(CommandLine.ParseResult r, List<String> values, String name) {
    for (String v : values) {
      if (v.isBlank()) {
        throw new ParameterException(r.commandSpec().commandLine(), name + " must not be empty");
      }
    }
  }

  /** The command tree: the root and {@code verb} only, or every verb when it is null. */
  static CommandLine tree(Main main, Class<?> verb) {
    CommandLine cl = new CommandLine(main);
    for (Class<?> v : verb == null ? VERBS : List.of(verb)) {
      cl.addSubcommand(v);
    }
    return cl;
  }

  @Override
  public void run() {
    // no verb given
    throw new ParameterException(spec.commandLine(), "missing command");
  }

  private static int usageError(ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    PrintWriter w = cl.getErr();
    boolean root = cl.getCommandSpec().userObject() instanceof Main;
    String message = e.getMessage();
    if (root && e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
        && !u.getUnmatched().get(0).startsWith("-")) {
      message = "unknown command '" + u.getUnmatched().get(0) + "'";
    }
    w.println("lodestar: " + message);
    CommandLine.UnmatchedArgumentException.printSuggestions(e, w);
    String name = cl.getCommandSpec().qualifiedName();
    if (root) {
      w.println("Commands: " + String.join(", ", visibleSubcommands(cl)) + ". Run 'lodestar --help' for usage.");
    } else {
      w.println("Run '" + name + " --help' for usage.");
    }
    w.flush();
    return CliException.USAGE;
  }

  private static java.util.List<String> visibleSubcommands(CommandLine cl) {
    return cl.getSubcommands().values().stream()
        .distinct()
        .filter(sub -> !sub.getCommandSpec().usageMessage().hidden())
        .map(CommandLine::getCommandName)
        .filter(k -> !k.equals("help"))
        .toList();
  }

  static int failure(Throwable e, PrintStream err) {
    if (e instanceof InterruptedException) {
      err.println("lodestar: interrupted");
      return INTERRUPTED;
    }
    if (e instanceof CliException c) {
      err.println("lodestar: " + c.getMessage());
      return c.exitCode();
    }
    String m = e.getMessage();
    err.println("lodestar: unexpected error: " + e.getClass().getSimpleName() + (m == null ? "" : ": " + m));
    return CliException.SERVER_ERROR;
  }

  // ------------------------------------------------------------------ shared by the verbs

  private java.nio.file.Path pathFromEnv(String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : java.nio.file.Path.of(v);
  }

  ServerAddress serverAddress() {
    String s = server;
    String origin = "--server";
    if (s == null) {
      s = env.get("LODESTAR_SERVER");
      origin = "LODESTAR_SERVER";
    }
    if (s == null || s.isBlank()) {
      s = ServerAddress.DEFAULT;
    }
    try {
      return ServerAddress.parse(s);
    } catch (IllegalArgumentException e) {
      throw new CliException(CliException.USAGE, e.getMessage() + " (from " + origin + ")");
    }
  }

  LodestarApi api() {
    if (api == null) {
      if (timeoutSeconds < 1) {
        throw new CliException(CliException.USAGE, "--timeout must be at least 1 second");
      }
      ServerAddress address = serverAddress();
      javax.net.ssl.SSLContext tls = null;
      java.nio.file.Path ca = tlsCa != null ? tlsCa : pathFromEnv("LODESTAR_TLS_CA");
      java.nio.file.Path cert = tlsCert != null ? tlsCert : pathFromEnv("LODESTAR_TLS_CERT");
      java.nio.file.Path key = tlsKey != null ? tlsKey : pathFromEnv("LODESTAR_TLS_KEY");
      if ((cert == null) != (key == null)) {
        throw new CliException(CliException.USAGE, "--tls-cert and --tls-key go together");
      }
      if (ca != null || cert != null || address.scheme().equals("https")) {
        // a CA file or a client certificate means TLS, so host:port alone is enough
        address = new ServerAddress("https", address.host(), address.port());
        tls = CliTls.context(ca, cert, key);
      }
      api = new LodestarApi(address, Duration.ofSeconds(timeoutSeconds), tls,
          checkedToken(token != null ? token : env.get("LODESTAR_TOKEN"), token != null ? "--token" : "LODESTAR_TOKEN"));
    }
    return api;
  }

  /**
   * A token is printable ASCII (the server's are {@code lds_} and base64url): anything else cannot
   * go in a header, and the JDK's refusal would print part of the secret.
   */
  static String checkedToken(String token, String from) {
    if (token != null) {
      for (int i = 0; i < token.length(); i++) {
        char c = token.charAt(i);
        if (c <= ' ' || c >= 0x7f) {
          throw new CliException(CliException.USAGE, "the token from " + from + " holds a space, a control or a "
              + "non-ASCII character at position " + (i + 1) + " (a stray newline?); tokens are printable ASCII");
        }
      }
    }
    return token;
  }

  /** Prints a server response as JSON: pretty, or one line when {@code oneLine}. */
  void printJson(com.fasterxml.jackson.databind.JsonNode json, boolean oneLine) {
    if (json == null || json.isMissingNode()) {
      out.println("{}");
      return;
    }
    out.println(oneLine ? Json.write(json) : Json.pretty(json));
    out.flush();
  }

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "0.1.0-SNAPSHOT" : v;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"lodestar " + version()};
    }
  }
}
