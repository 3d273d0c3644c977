package io.lodestar.client.lb;

/**
 * An immutable choice over one fixed list of endpoints, built once per membership, weight or
 * health change and published by one volatile write. {@link #pick} is arithmetic over arrays: no
 * lock, no allocation. Randomness comes from the caller so that tests can seed it.
 */
@FunctionalInterface
public interface Picker {
  /** Returned when there is nothing to pick from. */
  int NONE = -1;

  /**
   * @param random a uniformly random 64-bit value, fresh for each call
   * @param keyHash the call key's hash ({@link Hashing#hash}); used by hash policies only
   * @return the index of the chosen endpoint in the list the picker was built for, or {@link #NONE}
   */
  int pick(long random, long keyHash);
}
