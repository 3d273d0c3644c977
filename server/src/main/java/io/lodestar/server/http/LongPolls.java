package io.lodestar.server.http;

import io.lodestar.core.LodestarException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Long-poll waiters per key (a service, a config), woken by the key's next change. A waiter
 * re-checks the revision after registering, so a change that lands in between is never missed.
 *
 * <p>Memory is bounded by the waiters alive, not by the keys ever polled: a key's entry goes when
 * its last waiter leaves (woken, timed out or cancelled), and one client address may hold at most
 * {@link #maxPerClient} waiters at a time, so a single caller cannot grow the map without limit.
 * Every change to a key's list happens inside {@code compute} on that key, so a waiter added
 * while the last one leaves is never dropped with the entry.
 */
public final class LongPolls<K> {
  /** Waiters one client address may hold at once; a browser tab or an SDK-less script needs a handful. */
  public static final int DEFAULT_MAX_PER_CLIENT = 1_000;

  private final Map<K, List<CompletableFuture<Void>>> waiting = new ConcurrentHashMap<>();
  private final Map<Object, Integer> perClient = new ConcurrentHashMap<>();
  private final Executor notifier;
  private final int maxPerClient;

  public LongPolls(Executor notifier) {
    this(notifier, DEFAULT_MAX_PER_CLIENT);
  }

  public LongPolls(Executor notifier, int maxPerClient) {
    this.notifier = notifier;
    this.maxPerClient = maxPerClient;
  }

  /**
   * A future completed at the key's next change, held for {@code client} (its address). Refused
   * with 429 when that client already holds {@link #maxPerClient} waiters.
   */
  public CompletableFuture<Void> next(K key, Object client) {
    boolean[] admitted = {false};
    perClient.compute(client, (c, n) -> {
      int held = n == null ? 0 : n;
      if (held >= maxPerClient) {
        return n;
      }
      admitted[0] = true;
      return held + 1;
    });
    if (!admitted[0]) {
      throw new LodestarException(LodestarException.Code.TOO_MANY_REQUESTS, "this client already holds "
          + maxPerClient + " long polls (the limit per client address); let some finish first", "wait");
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    waiting.compute(key, (k, l) -> {
      List<CompletableFuture<Void>> list = l == null ? new ArrayList<>(2) : l;
      list.add(f);
      return list;
    });
    f.whenComplete((v, e) -> {
      waiting.computeIfPresent(key, (k, l) -> {
        l.remove(f);
        return l.isEmpty() ? null : l;
      });
      perClient.computeIfPresent(client, (c, n) -> n <= 1 ? null : n - 1);
    });
    return f;
  }

  /** Called on the applier thread: responses are written off it, on the notifier. */
  public void wake(K key) {
    // Once removed, no compute can reach this list again, so it is safe to read off the map.
    List<CompletableFuture<Void>> l = waiting.remove(key);
    if (l != null && !l.isEmpty()) {
      notifier.execute(() -> l.forEach(f -> f.complete(null)));
    }
  }

  /** Keys with at least one waiter (a gauge, and what the leak test watches). */
  public int keys() {
    return waiting.size();
  }

  /** Client addresses holding at least one waiter. */
  public int clients() {
    return perClient.size();
  }
}
