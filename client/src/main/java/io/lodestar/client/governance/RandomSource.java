package io.lodestar.client.governance;

import java.util.concurrent.ThreadLocalRandom;

/** Where picks get their randomness: thread-local in production, seeded in tests. */
@FunctionalInterface
public interface RandomSource {
  long nextLong();

  static RandomSource threadLocal() {
    return () -> ThreadLocalRandom.current().nextLong();
  }
}
