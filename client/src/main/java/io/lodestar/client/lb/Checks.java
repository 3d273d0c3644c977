package io.lodestar.client.lb;

/** Argument checks of the lb builders; each failure names the field. */
final class Checks {
  private Checks() {}

  static int atLeast(String field, int v, int min) {
    if (v < min) {
      throw new IllegalArgumentException(field + " must be at least " + min + ", got " + v);
    }
    return v;
  }

  static double share(String field, double v, boolean zeroAllowed) {
    if (Double.isNaN(v) || v > 1 || v < 0 || (!zeroAllowed && v == 0)) {
      throw new IllegalArgumentException(field + " must be within " + (zeroAllowed ? "[0" : "(0") + ", 1], got " + v);
    }
    return v;
  }
}
