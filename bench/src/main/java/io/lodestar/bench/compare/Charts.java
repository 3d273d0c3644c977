package io.lodestar.bench.compare;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/** The report's bar charts, as PNG files beside docs/benchmarks.md. */
final class Charts {
  private static final int WIDTH = 640;
  private static final int HEIGHT = 360;
  private static final Color[] SERIES = {new Color(0x2b6cb0), new Color(0xdd6b20), new Color(0x38a169),
      new Color(0x805ad5)};

  private Charts() {}

  static void write(List<Results> results, Plan plan, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    DefaultCategoryDataset w1 = new DefaultCategoryDataset();
    add(w1, results, "instances/s", r -> r.registrationsPerSecond);
    save(bar("W1 registration: instances/s (higher is better)", "instances/s", w1, false), dir, "compare-w1.png");

    DefaultCategoryDataset w2 = new DefaultCategoryDataset();
    add(w2, results, "p50", r -> r.notifyP50Ms);
    add(w2, results, "p99", r -> r.notifyP99Ms);
    add(w2, results, "max", r -> r.notifyMaxMs);
    save(bar("W2 change to watcher: ms, log scale (lower is better)", "ms", w2, true), dir, "compare-w2.png");

    DefaultCategoryDataset cpu = new DefaultCategoryDataset();
    DefaultCategoryDataset memory = new DefaultCategoryDataset();
    for (int count : plan.keepAliveCounts()) {
      String tier = String.format(java.util.Locale.ROOT, "%,d instances", count);
      add(cpu, results, tier, r -> r.tier(count) == null ? Double.NaN : r.tier(count).cpuSeconds());
      add(memory, results, "RSS, " + tier, r -> r.tier(count) == null ? Double.NaN
          : r.tier(count).rssBytes() / 1048576.0);
    }
    save(bar("W3 server CPU seconds per " + plan.keepAliveWindow().toSeconds() + " s (lower is better)",
        "CPU s", cpu, false), dir, "compare-w3-cpu.png");
    save(bar("W3 resident memory: MiB (lower is better)", "MiB", memory, false), dir, "compare-w3-memory.png");

    DefaultCategoryDataset w4 = new DefaultCategoryDataset();
    add(w4, results, "reads/s", r -> r.readsPerSecond);
    save(bar("W4 uncached discovery reads/s (higher is better)", "reads/s", w4, false), dir, "compare-w4.png");
  }

  /**
   * Every ratio of the table across the recorded runs, oldest on the left, on a log scale where 1
   * is parity and below 1 means Lodestar leads: Lodestar ÷ best peer for rows where lower wins,
   * best peer ÷ Lodestar for throughput rows.
   */
  static void writeTrend(List<RunLog.Run> runs, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (RunLog.Run run : runs) {
      String x = runLabel(run);
      run.ratios().forEach((label, ratio) -> {
        if (ratio != null && !ratio.isNaN() && ratio > 0) {
          // one direction for every line: a throughput row (higher wins) is drawn as best ÷ Lodestar,
          // so below 1 always means Lodestar ahead
          boolean higherWins = higherIsBetter(label);
          double shown = higherWins ? 1 / ratio : ratio;
          data.addValue(shown, higherWins ? label + " (inverted)" : label, x);
        }
      });
    }
    JFreeChart chart = ChartFactory.createLineChart("Every row, per recorded run: below 1 = Lodestar leads (log scale)",
        null, "ratio", data, PlotOrientation.VERTICAL, true, false, false);
    chart.setBackgroundPaint(Color.WHITE);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    LogAxis logAxis = new LogAxis("ratio");
    logAxis.setSmallestValue(0.01);
    logAxis.setNumberFormatOverride(new java.text.DecimalFormat("#,##0.##"));
    plot.setRangeAxis(logAxis);
    plot.addRangeMarker(new org.jfree.chart.plot.ValueMarker(1.0, Color.GRAY, new java.awt.BasicStroke(1.5f)));
    org.jfree.chart.renderer.category.LineAndShapeRenderer renderer =
        (org.jfree.chart.renderer.category.LineAndShapeRenderer) plot.getRenderer();
    renderer.setDefaultShapesVisible(true);
    // one label per run, turned up: written across, twenty runs shrank them all to "2..."
    plot.getDomainAxis().setCategoryLabelPositions(org.jfree.chart.axis.CategoryLabelPositions.UP_90);
    plot.getDomainAxis().setMaximumCategoryLabelLines(1);
    ChartUtils.saveChartAsPNG(dir.resolve("compare-trend.png").toFile(), chart, 960, 800);
  }

  /** A run on the trend's axis: its start, month to minute (UTC), and its plan when not the full one. */
  static String runLabel(RunLog.Run run) {
    String at = run.startedAt();
    String shown = at.length() >= 16 ? at.substring(5, 16).replace('T', ' ') : at;
    return "full".equals(run.plan()) ? shown : shown + " " + run.plan();
  }

  /** Throughput rows (per second) are the ones where a higher figure wins. */
  static boolean higherIsBetter(String label) {
    return label.contains("/s");
  }

  private static void add(DefaultCategoryDataset data, List<Results> results, String series,
      ToDoubleFunction<Results> f) {
    for (Results r : results) {
      double v = f.applyAsDouble(r);
      if (!Double.isNaN(v) && v >= 0) {
        data.addValue(v, series, r.peer);
      }
    }
  }

  private static JFreeChart bar(String title, String axis, DefaultCategoryDataset data, boolean log) {
    JFreeChart chart = ChartFactory.createBarChart(title, null, axis, data, PlotOrientation.VERTICAL,
        data.getRowCount() > 1, false, false);
    chart.setBackgroundPaint(Color.WHITE);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    if (log) {
      LogAxis logAxis = new LogAxis(axis);
      logAxis.setSmallestValue(0.1);
      logAxis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1)); // one tick per power of ten
      logAxis.setNumberFormatOverride(new java.text.DecimalFormat("#,##0.#"));
      plot.setRangeAxis(logAxis);
    }
    BarRenderer renderer = (BarRenderer) plot.getRenderer();
    renderer.setBarPainter(new StandardBarPainter());
    renderer.setShadowVisible(false);
    for (int s = 0; s < data.getRowCount(); s++) {
      renderer.setSeriesPaint(s, SERIES[s % SERIES.length]);
    }
    return chart;
  }

  private static void save(JFreeChart chart, Path dir, String name) throws IOException {
    ChartUtils.saveChartAsPNG(dir.resolve(name).toFile(), chart, WIDTH, HEIGHT);
  }
}
