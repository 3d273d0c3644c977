package io.lodestar.client.breaker;

import io.lodestar.client.governance.Ticker;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One circuit breaker: of an instance, a service or a method.
 *
 * <p>Design (after resilience4j's state machine): each state is an object held in one atomic
 * reference. Closed owns a sliding window and a consecutive-error counter; Open knows when it
 * ends; Half-open hands out a fixed number of probe permits from an atomic counter. A transition
 * is a CAS from the exact state object observed, so two threads cannot both make it, and the
 * listener runs after the swap (its exceptions are swallowed: a bad listener cannot break the
 * breaker).
 *
 * <p>Open → half-open happens lazily, on the first {@link #tryAcquire} or {@link #state(long)}
 * after the open duration. In half-open, a failure beyond what {@code successesToClose} tolerates
 * reopens the breaker; {@code successesToClose} successes close it.
 */
public final class CircuitBreaker {
  public enum State { CLOSED, OPEN, HALF_OPEN }

  /** Told of every transition, after it happened. */
  @FunctionalInterface
  public interface Listener {
    void onTransition(CircuitBreaker breaker, State from, State to);
  }

  private final String name;
  private final CircuitBreakerConfig config;
  private final Ticker ticker;
  private final Listener listener;
  private final AtomicReference<Phase> phase;

  public CircuitBreaker(String name, CircuitBreakerConfig config, Ticker ticker, Listener listener) {
    this.name = name;
    this.config = config;
    this.ticker = ticker;
    this.listener = listener == null ? (b, f, t) -> { } : listener;
    this.phase = new AtomicReference<>(new Closed(config));
  }

  public String name() {
    return name;
  }

  public CircuitBreakerConfig config() {
    return config;
  }

  /** The current state without moving time (an expired Open still reads OPEN). */
  public State state() {
    return phase.get().state();
  }

  /** The state at {@code nowNanos}: an Open whose time is up becomes half-open. */
  public State state(long nowNanos) {
    Phase p = phase.get();
    if (p instanceof Open o && nowNanos - o.until >= 0) {
      transition(o, new HalfOpen(config));
      return phase.get().state();
    }
    return p.state();
  }

  /** When an open breaker turns half-open, in ticker nanos; Long.MAX_VALUE if not open. */
  public long reopensAt() {
    return phase.get() instanceof Open o ? o.until : Long.MAX_VALUE;
  }

  /** May a call go through? Closed: yes. Open: no. Half-open: while probe permits last. */
  public boolean tryAcquire() {
    Phase p = phase.get();
    if (p instanceof Closed) {
      return true;
    }
    if (p instanceof Open o) {
      if (ticker.nanos() - o.until < 0) {
        return false;
      }
      transition(o, new HalfOpen(config));
      p = phase.get();
      if (!(p instanceof HalfOpen)) {
        return p instanceof Closed;
      }
    }
    return ((HalfOpen) p).permits.getAndDecrement() > 0;
  }

  /** Records the outcome of a call that went through. */
  public void onResult(boolean success, long latencyNanos) {
    Phase p = phase.get();
    boolean slow = config.slowCallNanos > 0 && latencyNanos >= config.slowCallNanos;
    if (p instanceof Closed c) {
      boolean failed = !success;
      boolean trip;
      if (failed && config.consecutiveErrors > 0
          && c.consecutive.incrementAndGet() >= config.consecutiveErrors) {
        trip = true;
        c.window.recordAndCheck(ticker.nanos(), true, slow, config);
      } else {
        if (!failed && c.consecutive.get() != 0) {
          c.consecutive.set(0);
        }
        trip = c.window.recordAndCheck(ticker.nanos(), failed, slow, config);
      }
      if (trip) {
        transition(c, new Open(ticker.nanos() + config.openNanos));
      }
    } else if (p instanceof HalfOpen h) {
      if (!success || slow) {
        if (h.failures.incrementAndGet() > config.halfOpenProbes - config.successesToClose) {
          transition(h, new Open(ticker.nanos() + config.openNanos));
        }
      } else if (h.successes.incrementAndGet() >= config.successesToClose) {
        transition(h, new Closed(config));
      }
    }
    // Open: a straggler from before the trip; nothing to learn.
  }

  private void transition(Phase from, Phase to) {
    if (from.state() == to.state() || !phase.compareAndSet(from, to)) {
      return;
    }
    try {
      listener.onTransition(this, from.state(), to.state());
    } catch (RuntimeException ignored) {
      // a listener's failure must not break the breaker
    }
  }

  @Override
  public String toString() {
    return "CircuitBreaker[" + name + " " + state() + "]";
  }

  private sealed interface Phase permits Closed, Open, HalfOpen {
    State state();
  }

  private static final class Closed implements Phase {
    final SlidingWindow window;
    final AtomicInteger consecutive = new AtomicInteger();

    Closed(CircuitBreakerConfig c) {
      window = new SlidingWindow(c.windowBuckets, c.windowNanos / c.windowBuckets);
    }

    @Override
    public State state() {
      return State.CLOSED;
    }
  }

  private static final class Open implements Phase {
    final long until;

    Open(long until) {
      this.until = until;
    }

    @Override
    public State state() {
      return State.OPEN;
    }
  }

  private static final class HalfOpen implements Phase {
    final AtomicInteger permits;
    final AtomicInteger successes = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();

    HalfOpen(CircuitBreakerConfig c) {
      permits = new AtomicInteger(c.halfOpenProbes);
    }

    @Override
    public State state() {
      return State.HALF_OPEN;
    }
  }
}
