package io.lodestar.server.limits;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts what each client address holds open (streams) against a cap. An address's entry is
 * dropped when its count returns to zero, so the map holds only addresses with something open.
 */
public final class PerAddressCounter {
  private final int max;
  private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

  public PerAddressCounter(int max) {
    this.max = max;
  }

  public int max() {
    return max;
  }

  /** Takes one for {@code address}; false (and nothing taken) when it already holds the maximum. */
  public boolean tryAcquire(String address) {
    boolean[] taken = {false};
    open.compute(address, (a, n) -> {
      int now = n == null ? 0 : n;
      if (now >= max) {
        return n;
      }
      taken[0] = true;
      return now + 1;
    });
    return taken[0];
  }

  /** Gives back one taken by {@link #tryAcquire}. */
  public void release(String address) {
    open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
  }

  /** What {@code address} holds now. */
  public int count(String address) {
    return open.getOrDefault(address, 0);
  }
}
