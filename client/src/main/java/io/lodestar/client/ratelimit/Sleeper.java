package io.lodestar.client.ratelimit;

/** How a waiting acquire waits; tests pass one that advances a fake ticker. */
@FunctionalInterface
public interface Sleeper {
  void sleepNanos(long nanos) throws InterruptedException;

  static Sleeper system() {
    return nanos -> {
      if (nanos > 0) {
        Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
      }
    };
  }
}
