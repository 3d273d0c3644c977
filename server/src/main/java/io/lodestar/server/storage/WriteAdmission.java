package io.lodestar.server.storage;

import io.lodestar.api.v1.state.Command;
import io.lodestar.core.LodestarException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Which writes a node's write queue still takes as it fills. New work (a registration, a config,
 * a rule) is refused once the queue is three-quarters full; what sheds load (a deregistration, a
 * client's goodbye, the health checker's transitions) is taken until the queue is full. So an
 * overloaded node still lets its clients leave and its health change, and a refused client is told
 * to come back later ({@link LodestarException#retryAfterMillis()}) instead of being answered
 * only when the queue has no room left at all. Both refusals are counted in
 * {@code lodestar_writes_refused_total} by reason ({@code busy}: new work above the mark;
 * {@code full}: no room at all).
 */
final class WriteAdmission {
  /** The share of the queue that new work may fill. */
  static final double NEW_WORK_SHARE = 0.75;
  /** The retry hint: from this when the queue is at its mark, growing with what is queued. */
  static final long MIN_RETRY_MILLIS = 200;
  static final long MAX_RETRY_MILLIS = 2_000;

  private final int capacity;
  private final int newWorkLimit;
  private final Counter refusedBusy;
  private final Counter refusedFull;

  WriteAdmission(int capacity, MeterRegistry meters) {
    this.capacity = capacity;
    this.newWorkLimit = Math.max(1, (int) (capacity * NEW_WORK_SHARE));
    this.refusedBusy = refused(meters, "busy");
    this.refusedFull = refused(meters, "full");
  }

  private static Counter refused(MeterRegistry meters, String reason) {
    return Counter.builder("lodestar.writes.refused").tag("reason", reason)
        .description("writes refused because the write queue was busy (new work) or full (everything); "
            + "the client was told to retry later").register(meters);
  }

  int capacity() {
    return capacity;
  }

  /** Null when {@code command} may be queued behind {@code queued} others; else the refusal to answer with. */
  LodestarException refusal(Command command, int queued) {
    if (queued < newWorkLimit || shedsLoad(command)) {
      return null;
    }
    refusedBusy.increment();
    return new LodestarException(LodestarException.Code.UNAVAILABLE, "the server is busy (" + queued
        + " writes queued); retry later", null, retryAfter(queued));
  }

  /** The refusal when the queue had no room left. */
  LodestarException full() {
    refusedFull.increment();
    return new LodestarException(LodestarException.Code.UNAVAILABLE, "write queue is full; retry later", null,
        MAX_RETRY_MILLIS);
  }

  private long retryAfter(int queued) {
    double over = (double) (queued - newWorkLimit) / Math.max(1, capacity - newWorkLimit);
    return MIN_RETRY_MILLIS + Math.round((MAX_RETRY_MILLIS - MIN_RETRY_MILLIS) * Math.min(1, Math.max(0, over)));
  }

  /** Writes that take load off the node (or report on it): never refused while there is room. */
  static boolean shedsLoad(Command c) {
    return switch (c.getKindCase()) {
      case DEREGISTER_INSTANCE, DEREGISTER_OWNED, SET_HEALTH -> true;
      default -> false;
    };
  }
}
