package io.lodestar.client.internal.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The nearby router: the caller's zone first, then its region, then everything. A tier serves
 * only while its healthy share (healthy ÷ all of the tier) is at least {@code minHealthyShare};
 * otherwise traffic falls back to the next, wider tier. Runs when pickers are built, not per call.
 */
public final class Nearby {
  public static final double DEFAULT_MIN_HEALTHY_SHARE = 0.5;
  public static final String DEFAULT_ZONE_KEY = "zone";
  public static final String DEFAULT_REGION_KEY = "region";
  static final Nearby DISABLED = new Nearby(false, DEFAULT_MIN_HEALTHY_SHARE, DEFAULT_ZONE_KEY, DEFAULT_REGION_KEY);

  public enum Tier { ZONE, REGION, ALL }

  private final boolean enabled;
  private final double minHealthyShare;
  private final String zoneKey;
  private final String regionKey;

  private Nearby(boolean enabled, double minHealthyShare, String zoneKey, String regionKey) {
    this.enabled = enabled;
    this.minHealthyShare = minHealthyShare;
    this.zoneKey = zoneKey;
    this.regionKey = regionKey;
  }

  static Nearby of(io.lodestar.api.v1.Nearby n) {
    if (!n.getEnabled()) {
      return DISABLED;
    }
    return new Nearby(true, n.getMinHealthyShare() <= 0 ? DEFAULT_MIN_HEALTHY_SHARE : n.getMinHealthyShare(),
        n.getZoneKey().isEmpty() ? DEFAULT_ZONE_KEY : n.getZoneKey(),
        n.getRegionKey().isEmpty() ? DEFAULT_REGION_KEY : n.getRegionKey());
  }

  public boolean enabled() {
    return enabled;
  }

  /** The result of tiering: the tier used and its healthy members. */
  public record Selection<T>(Tier tier, List<T> members) {}

  /**
   * Picks the nearest tier whose healthy share holds, and returns its healthy members. With
   * nearby disabled (or nothing nearer qualifying) the answer is every healthy candidate.
   */
  public <T> Selection<T> select(List<T> candidates, Function<T, Map<String, String>> metadata,
      Predicate<T> healthy, Map<String, String> caller) {
    if (enabled) {
      String zone = caller.get(zoneKey);
      String region = caller.get(regionKey);
      if (zone != null) {
        List<T> tier = healthyIfEnough(candidates, metadata, healthy, zoneKey, zone, region);
        if (tier != null) {
          return new Selection<>(Tier.ZONE, tier);
        }
      }
      if (region != null) {
        List<T> tier = healthyIfEnough(candidates, metadata, healthy, regionKey, region, null);
        if (tier != null) {
          return new Selection<>(Tier.REGION, tier);
        }
      }
    }
    List<T> all = new ArrayList<>(candidates.size());
    for (T c : candidates) {
      if (healthy.test(c)) {
        all.add(c);
      }
    }
    return new Selection<>(Tier.ALL, all);
  }

  private <T> List<T> healthyIfEnough(List<T> candidates, Function<T, Map<String, String>> metadata,
      Predicate<T> healthy, String key, String value, String region) {
    int total = 0;
    List<T> ok = new ArrayList<>();
    for (T c : candidates) {
      Map<String, String> md = metadata.apply(c);
      // a zone counts only within the caller's region, when both carry one
      if (value.equals(md.get(key)) && (region == null || md.get(regionKey) == null
          || region.equals(md.get(regionKey)))) {
        total++;
        if (healthy.test(c)) {
          ok.add(c);
        }
      }
    }
    if (total == 0 || ok.isEmpty() || (double) ok.size() / total < minHealthyShare) {
      return null;
    }
    return ok;
  }
}
