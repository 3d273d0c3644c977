package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import java.util.Arrays;
import java.util.List;

/** A unified diff of two texts (java-diff-utils), as HTML lines marked added or removed. */
final class TextDiff {
  private TextDiff() {}

  static String html(String fromLabel, String from, String toLabel, String to) {
    List<String> a = lines(from);
    List<String> b = lines(to);
    List<String> unified = UnifiedDiffUtils.generateUnifiedDiff(fromLabel, toLabel, a, DiffUtils.diff(a, b), 3);
    if (unified.isEmpty()) {
      return "<p class=\"notice\">" + h(fromLabel) + " and " + h(toLabel) + " have the same content.</p>";
    }
    StringBuilder out = new StringBuilder("<pre class=\"diff\" aria-label=\"Differences\">");
    for (String line : unified) {
      String cls = line.startsWith("+++") || line.startsWith("---") ? "file"
          : line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "ctx";
      out.append("<span class=\"").append(cls).append("\">").append(h(line)).append("</span>");  // spans are blocks
    }
    return out.append("</pre>").toString();
  }

  private static List<String> lines(String s) {
    return s.isEmpty() ? List.of() : Arrays.asList(s.split("\r\n|\r|\n", -1));
  }
}
