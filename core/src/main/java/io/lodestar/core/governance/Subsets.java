package io.lodestar.core.governance;

import io.lodestar.api.v1.Instance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A route rule's destination subset: the instances whose metadata carries every label of the
 * subset. One definition for every server-side reader of rules (xDS, the console's explainer), so
 * they cannot disagree on membership.
 */
public final class Subsets {
  private Subsets() {}

  /** The instances in {@code subset}, in their order; all of them for an empty subset. */
  public static List<Instance> members(List<Instance> instances, Map<String, String> subset) {
    if (subset.isEmpty()) {
      return instances;
    }
    List<Instance> out = new ArrayList<>();
    for (Instance i : instances) {
      if (matches(i, subset)) {
        out.add(i);
      }
    }
    return out;
  }

  private static boolean matches(Instance i, Map<String, String> subset) {
    for (Map.Entry<String, String> e : subset.entrySet()) {
      if (!e.getValue().equals(i.getMetadataMap().get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
