package io.lodestar.client.governance;

/**
 * A source of monotonic time in nanoseconds. Governance code reads time only through a ticker so
 * that tests drive breakers, windows and buckets with a fake one, deterministically.
 */
@FunctionalInterface
public interface Ticker {
  long nanos();

  static Ticker system() {
    return System::nanoTime;
  }
}
