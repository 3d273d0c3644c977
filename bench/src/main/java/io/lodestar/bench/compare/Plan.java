package io.lodestar.bench.compare;

import java.time.Duration;
import java.util.List;

/**
 * The sizes of one comparison run. The full plan is the workloads as written; the quick
 * plan keeps W1 and W4 as they are and shortens the others so that four peers fit in five minutes.
 * A tier whose registration outlasts {@code registrationBudget} is cut short, not held, and
 * reported as not reached, so that one overwhelmed peer cannot stretch the run without end.
 *
 * <p>Scale tiers ({@code scaleTiers}, full plan only) are held by Lodestar alone, after the
 * compared tiers: they test one node's ceiling (a million instances in a 1 GiB heap), not a race,
 * and each gets {@code scaleBudget} to register.
 *
 * <p>Each peer is started {@code timedStarts} times, each on an empty directory, and the median
 * is its start to ready: one start on 2 cores moves by a third from run to run (the JIT's threads
 * and the machine's own work share the cores), more than the gap the row compares. The workloads
 * run on the last start's server.
 */
record Plan(
    String label,
    int services,
    int perService,
    int clients,
    int metadataEntries,
    int watchers,
    int changes,
    Duration changeEvery,
    Duration notifyDeadline,
    List<Integer> keepAliveCounts,
    Duration keepAliveWindow,
    int readers,
    Duration readWindow,
    Duration registrationBudget,
    List<Integer> scaleTiers,
    Duration scaleBudget,
    int timedStarts) {

  /** Calls each client keeps in flight while filling a tier that is not timed as W1. */
  static final int FILL_IN_FLIGHT = 8;

  static Plan full() {
    return new Plan("full", 100, 100, 16, 5, 50, 100, Duration.ofMillis(100), Duration.ofSeconds(90),
        List.of(10_000, 100_000), Duration.ofSeconds(60), 16, Duration.ofSeconds(10), Duration.ofMinutes(4),
        List.of(1_000_000), Duration.ofMinutes(20), 3);
  }

  static Plan quick() {
    return new Plan("quick", 100, 100, 16, 5, 50, 20, Duration.ofMillis(100), Duration.ofSeconds(75),
        List.of(10_000), Duration.ofSeconds(15), 16, Duration.ofSeconds(5), Duration.ofMinutes(2),
        List.of(), Duration.ofMinutes(2), 1);
  }

  /** W1's size, which is also W3's first tier: the registration is timed, then held. */
  int registrations() {
    return services * perService;
  }

  /** This plan with other W3 tiers (the first is W1's size) and scale tiers, for a smoke run. */
  Plan withTiers(List<Integer> tiers, List<Integer> scale) {
    int first = tiers.isEmpty() ? registrations() : tiers.get(0);
    int per = Math.max(1, Math.min(perService, first));
    return new Plan(label, Math.max(1, first / per), per, clients, metadataEntries, watchers, changes, changeEvery,
        notifyDeadline, tiers.isEmpty() ? keepAliveCounts : List.copyOf(tiers), keepAliveWindow, readers, readWindow,
        registrationBudget, scale == null ? scaleTiers : List.copyOf(scale), scaleBudget, timedStarts);
  }

  /** Every tier a peer holds, in order: the compared ones, then (Lodestar only) the scale tiers. */
  List<Integer> tiersFor(Peer peer) {
    if (!peer.holdsScaleTiers() || scaleTiers.isEmpty()) {
      return keepAliveCounts;
    }
    List<Integer> all = new java.util.ArrayList<>(keepAliveCounts);
    all.addAll(scaleTiers);
    return all;
  }

  boolean isScaleTier(int count) {
    return scaleTiers.contains(count) && !keepAliveCounts.contains(count);
  }
}
