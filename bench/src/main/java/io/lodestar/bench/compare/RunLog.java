package io.lodestar.bench.compare;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.Strictness;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every recorded run's raw results, one JSON file per run in docs/bench/runs/, so that a later
 * reader can recompute any figure and the trend chart can show each ratio across runs. Files are
 * named by the run's start time, so their order is the runs' order.
 */
final class RunLog {
  // NaN marks a figure a peer does not have (no heap for etcd, a tier not reached)
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
      .serializeNulls().setStrictness(Strictness.LENIENT).create();

  private RunLog() {}

  /**
   * One run: when and how it was made, Lodestar's ratio to the best peer per row of the table
   * (NaN where there is none), and every peer's results as measured.
   */
  record Run(String startedAt, String plan, String command, String loadBefore, String loadAfter, String revision,
      Map<String, Double> ratios, List<Results> results) {}

  static Path write(Path runsDir, Run run) throws IOException {
    Files.createDirectories(runsDir);
    Path file = runsDir.resolve(run.startedAt().replace(':', '-') + "-" + run.plan() + ".json");
    Files.writeString(file, GSON.toJson(run) + "\n", StandardCharsets.UTF_8);
    return file;
  }

  /** Every run recorded in the directory, oldest first; files that do not parse are skipped. */
  static List<Run> readAll(Path runsDir) throws IOException {
    List<Run> runs = new ArrayList<>();
    if (!Files.isDirectory(runsDir)) {
      return runs;
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(runsDir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
    }
    for (Path p : files) {
      try {
        Run run = GSON.fromJson(Files.readString(p, StandardCharsets.UTF_8), Run.class);
        if (run != null && run.ratios() != null) {
          runs.add(run);
        }
      } catch (RuntimeException e) {
        System.err.println("bench compare: skipping " + p + " (" + e.getMessage() + ")");
      }
    }
    return runs;
  }
}
