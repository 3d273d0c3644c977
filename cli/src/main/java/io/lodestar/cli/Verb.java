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

  /**
   * The bytes of FILE, or of stdin for {@code -}; what cannot be read is a usage error that says
   * why (no such file, a directory, no permission), never a stack trace.
   */
  byte[] readInput(String file) {
    String what = file.equals("-") ? "stdin" : file;
    try {
      return file.equals("-") ? main().in.readAllBytes() : java.nio.file.Files.readAllBytes(java.nio.file.Path.of(file));
    } catch (java.nio.file.NoSuchFileException e) {
      throw usage("no such file: " + file);
    } catch (java.nio.file.AccessDeniedException e) {
      throw usage("cannot read " + what + ": permission denied");
    } catch (java.io.IOException e) {
      boolean dir = file.equals("-") ? "Is a directory".equals(e.getMessage())
          : java.nio.file.Files.isDirectory(java.nio.file.Path.of(file));
      throw usage(dir ? what + " is a directory, not a file" : "cannot read " + what + ": " + e.getMessage());
    } catch (java.nio.file.InvalidPathException e) {
      throw usage("not a file name: " + file);
    }
  }

  /** {@code /v1/namespaces/{ns}/services/{service}/...more}, each segment encoded. */
  String servicePath(String service, String... more) {
    java.util.List<String> segs = new java.util.ArrayList<>(
        java.util.List.of("v1", "namespaces", namespace(), "services", service));
    segs.addAll(java.util.Arrays.asList(more));
    return LodestarApi.path(segs.toArray(String[]::new));
  }
}
