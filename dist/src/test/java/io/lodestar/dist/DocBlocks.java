package io.lodestar.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The examples of a Markdown file that are marked to be run: a fenced block right after an
 * HTML comment {@code <!-- doc-test -->} (a script, run as one bash script that must exit 0),
 * {@code <!-- doc-test: stream -->} (each line a command that follows changes: it must print, and
 * is then interrupted) or {@code <!-- doc-test: transcript -->} ({@code $ command} lines, each
 * followed by exactly the output it must give). Unmarked blocks are prose, never run.
 */
record DocBlocks(Path file, List<Block> blocks) {
  enum Kind { SCRIPT, STREAM, TRANSCRIPT }

  record Block(Kind kind, int line, String text) {}

  private static final Pattern MARK = Pattern.compile("^<!--\\s*doc-test(?::\\s*(stream|transcript))?\\s*-->\\s*$");

  static DocBlocks of(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    List<Block> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = MARK.matcher(lines.get(i).trim());
      if (!m.matches()) {
        continue;
      }
      Kind kind = m.group(1) == null ? Kind.SCRIPT : Kind.valueOf(m.group(1).toUpperCase(java.util.Locale.ROOT));
      int open = i + 1;
      if (open >= lines.size() || !lines.get(open).startsWith("```")) {
        throw new IllegalStateException(file + ":" + (i + 1) + ": a doc-test mark must be followed by a ``` block");
      }
      StringBuilder text = new StringBuilder();
      int j = open + 1;
      for (; j < lines.size() && !lines.get(j).startsWith("```"); j++) {
        text.append(lines.get(j)).append('\n');
      }
      out.add(new Block(kind, open + 1, text.toString()));
      i = j;
    }
    return new DocBlocks(file, out);
  }

  /** A transcript's steps: each command with the output expected from it. */
  static List<String[]> steps(Block transcript) {
    List<String[]> steps = new ArrayList<>();
    String command = null;
    StringBuilder expected = new StringBuilder();
    for (String line : transcript.text().split("\n", -1)) {
      if (line.startsWith("$ ")) {
        if (command != null) {
          steps.add(new String[] {command, expected.toString()});
        }
        command = line.substring(2);
        expected.setLength(0);
      } else if (command != null && !line.isEmpty()) {
        expected.append(line).append('\n');
      }
    }
    if (command != null) {
      steps.add(new String[] {command, expected.toString()});
    }
    return steps;
  }
}
