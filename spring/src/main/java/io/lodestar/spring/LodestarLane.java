package io.lodestar.spring;

import io.lodestar.client.governance.Governor;

/**
 * The lane of the request this thread serves (full-link gray release, docs/spring.md#lanes): set
 * from its {@code x-lodestar-lane} header by {@link LodestarLaneFilter}, sent on by
 * {@link LodestarLaneInterceptor} with every call the request makes through a {@code RestTemplate}
 * or {@code RestClient}, and seen by the load balancer, which keeps the call in the lane.
 * Thread-bound: work handed to another thread takes its lane with {@link #run}.
 */
public final class LodestarLane {
  public static final String HEADER = Governor.LANE_HEADER;
  private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

  private LodestarLane() {}

  /** The lane of the request being served on this thread, or null. */
  public static String current() {
    return CURRENT.get();
  }

  /** Runs {@code task} in {@code lane} (null: in none), restoring the previous lane afterwards. */
  public static void run(String lane, Runnable task) {
    String previous = CURRENT.get();
    set(lane);
    try {
      task.run();
    } finally {
      set(previous);
    }
  }

  static void set(String lane) {
    if (lane == null || lane.isEmpty()) {
      CURRENT.remove();
    } else {
      CURRENT.set(lane);
    }
  }
}
