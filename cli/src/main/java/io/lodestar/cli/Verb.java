package io.lodestar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Base of every verb: reaches the global options, the API and the output streams. */
abstract class Verb implements Callable<Integer> {
  @Spec CommandSpec spec;

  @picocli.CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  Main main() {
    return (Main) spec.root().userObject();
  }

  LodestarApi api() {
    return main().api();
  }

  String namespace() {
    return main().namespace;
  }

  boolean json() {
    return main().json;
  }

  PrintStream out() {
    return main().out;
  }

  PrintStream err() {
    return main().err;
  }

  void printJson(JsonNode node) {
    main().printJson(node, false);
  }

  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** {@code /v1/namespaces/{ns}/services/{service}/...more}, each segment encoded. */
  String servicePath(String service, String... more) {
    java.util.List<String> segs = new java.util.ArrayList<>(
        java.util.List.of("v1", "namespaces", namespace(), "services", service));
    segs.addAll(java.util.Arrays.asList(more));
    return LodestarApi.path(segs.toArray(String[]::new));
  }
}
