package io.lodestar.bench.compare;

import java.time.Duration;
import java.util.List;

/**
 * The sizes of one comparison run. The full plan is the workloads as written; the quick
 * plan keeps W1 and W4 as they are and shortens the others so that four peers fit in five minutes.
 * A tier whose registration outlasts {@code registrationBudget} is cut short, not held, and
 * reported as not reached, so that one overwhelmed peer cannot stretch the run without end.
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
    Duration registrationBudget) {

  static Plan full() {
    return new Plan("full", 100, 100, 16, 5, 50, 100, Duration.ofMillis(100), Duration.ofSeconds(90),
        List.of(10_000, 100_000), Duration.ofSeconds(60), 16, Duration.ofSeconds(10), Duration.ofMinutes(4));
  }

  static Plan quick() {
    return new Plan("quick", 100, 100, 16, 5, 50, 20, Duration.ofMillis(100), Duration.ofSeconds(75),
        List.of(10_000), Duration.ofSeconds(15), 16, Duration.ofSeconds(5), Duration.ofMinutes(2));
  }

  /** W1's size, which is also W3's first tier: the registration is timed, then held. */
  int registrations() {
    return services * perService;
  }
}
