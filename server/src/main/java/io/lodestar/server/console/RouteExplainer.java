package io.lodestar.server.console;

import static io.lodestar.server.console.Html.h;

import io.lodestar.api.v1.Destination;
import io.lodestar.api.v1.Instance;
import io.lodestar.core.governance.Subsets;
import io.lodestar.api.v1.RouteRule;
import io.lodestar.api.v1.RouteRules;
import io.lodestar.core.naming.ServiceView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * "What this route rule does": for each rule, the share of its calls each instance gets.
 *
 * <p>It follows the SDK's semantics (client/…/internal/route/RouteTable and ServiceGovernor), restated
 * here because the server cannot depend on the SDK: the SDK routes over the instances discovery
 * hands out (healthy, not isolated; all non-isolated ones when protection applies); a rule's
 * destinations split its calls by weight (0 means 100); a destination's subset is the instances
 * whose metadata carries every subset entry; an empty subset falls back to every instance, or
 * fails with {@code fallback: fail}; within a subset, weighted random and round robin give each
 * instance its weight's share. Other balancers (least request, hashing, adaptive) move shares with
 * load or keys, and breakers and the nearby tiers narrow the set per caller: the table shows the
 * configured split, not a measurement.
 */
final class RouteExplainer {
  private RouteExplainer() {}

  static String render(ServiceView v) {
    RouteRules rr = v.info().getRules().getRoute();
    List<Instance> pool = v.healthy().instances();
    StringBuilder out = new StringBuilder("<h3>What the route rules do</h3>");
    if (rr.getRulesCount() == 0) {
      return out.append("<p>No route rule: every call goes to every instance in discovery, by weight.</p>")
          .append(table("every call", pool, 1.0)).toString();
    }
    boolean failWhenEmpty = rr.getFallback() == RouteRules.Fallback.FAIL;
    for (RouteRule r : rr.getRulesList()) {
      if (r.getDestinationsCount() == 0) {
        continue;
      }
      long total = 0;
      for (Destination d : r.getDestinationsList()) {
        total += weight(d);
      }
      out.append("<h4>Rule ").append(h(r.getName().isEmpty() ? "(unnamed)" : r.getName())).append("</h4><p>")
          .append(r.hasMatch() && !r.getMatch().equals(io.lodestar.api.v1.Match.getDefaultInstance())
              ? "Calls that match <code>" + h(shortJson(r.getMatch())) + "</code>" : "Every call")
          .append(" (the first matching rule wins):</p>");
      List<String[]> rows = new ArrayList<>();
      for (Destination d : r.getDestinationsList()) {
        double share = (double) weight(d) / total;
        List<Instance> subset = Subsets.members(pool, d.getSubsetMap());
        String label = d.getSubsetMap().isEmpty() ? "all instances" : "subset " + h(d.getSubsetMap().toString());
        if (subset.isEmpty()) {
          out.append("<p>").append(pct(share)).append(" to ").append(label).append(": no instance in it, so ")
              .append(failWhenEmpty ? "<strong class=\"bad\">those calls fail</strong> (fallback: fail)."
                  : "they go to every instance (fallback: all).").append("</p>");
          if (!failWhenEmpty) {
            out.append(table(label + " → all", pool, share));
          }
        } else {
          out.append("<p>").append(pct(share)).append(" to ").append(label).append(":</p>")
              .append(table(label, subset, share));
        }
      }
    }
    out.append("<p>Calls that match no rule go to every instance in discovery, by weight.</p>");
    return out.toString();
  }

  private static long weight(Destination d) {
    return d.getWeight() == 0 ? 100 : d.getWeight();
  }

  private static String table(String caption, List<Instance> instances, double share) {
    long sum = 0;
    for (Instance i : instances) {
      sum += i.getWeight();
    }
    StringBuilder rows = new StringBuilder();
    for (Instance i : instances) {
      // weight 0 everywhere: the SDK picks uniformly
      double s = sum == 0 ? share / instances.size() : share * i.getWeight() / sum;
      rows.append("<tr data-share-instance=\"").append(h(i.getId())).append("\"><th scope=\"row\">").append(h(i.getId()))
          .append("</th><td class=\"num\">").append(i.getWeight()).append("</td><td class=\"num\" data-share=\"")
          .append(String.format(Locale.ROOT, "%.1f", s * 100)).append("\">").append(pct(s)).append("</td></tr>");
    }
    if (instances.isEmpty()) {
      rows.append("<tr><td colspan=\"3\">No instance in discovery.</td></tr>");
    }
    return "<div class=\"table-wrap\"><table class=\"shares\"><caption>" + caption + "</caption><thead><tr>"
        + "<th scope=\"col\">Instance</th><th scope=\"col\" class=\"num\">Weight</th><th scope=\"col\" class=\"num\">"
        + "Share of calls</th></tr></thead><tbody>" + rows + "</tbody></table></div>";
  }

  private static String pct(double share) {
    return String.format(Locale.ROOT, "%.1f%%", share * 100);
  }

  private static String shortJson(com.google.protobuf.Message m) {
    try {
      return com.google.protobuf.util.JsonFormat.printer().omittingInsignificantWhitespace().print(m);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return m.toString();
    }
  }
}
