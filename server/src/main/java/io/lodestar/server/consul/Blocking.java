package io.lodestar.server.consul;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.server.http.LongPolls;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Consul's blocking queries: with {@code index=N}, answer at once when what the query covers is
 * already at another index, else at its next change or at the end of {@code wait}.
 *
 * <p>Waiters park on a coarse key (a service, a namespace) and each wake-up re-reads the query's
 * own index: a write the query does not cover (another key of the namespace) wakes it, finds the
 * index unchanged and parks it again, so it never answers early. An index below N (a restored
 * snapshot) answers at once too, so the client starts over, as Consul's clients do.
 */
final class Blocking {
  private Blocking() {}

  /** Completes when the query should be answered; the caller then reads the current state. */
  static <K> CompletableFuture<Void> await(ServiceRequestContext ctx, LongPolls<K> polls, K key, LongSupplier index,
      long since) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Duration wait = ConsulQuery.waitWithJitter(ctx); // refused when it does not parse, as Consul does, index or not
    if (since < 0) {
      done.complete(null);
      return done;
    }
    ctx.setRequestTimeout(wait.plusSeconds(10));
    long deadline = System.nanoTime() + wait.toNanos();
    park(polls, key, ctx.clientAddress(), index, since, deadline, done);
    return done;
  }

  private static <K> void park(LongPolls<K> polls, K key, Object client, LongSupplier index, long since,
      long deadline, CompletableFuture<Void> done) {
    // register first, then check: a change that lands in between is never missed
    CompletableFuture<Void> next;
    try {
      next = polls.next(key, client);
    } catch (RuntimeException e) {  // this client holds too many polls (429)
      done.completeExceptionally(e);
      return;
    }
    long left = deadline - System.nanoTime();
    if (index.getAsLong() != since || left <= 0) {
      next.cancel(false);
      done.complete(null);
      return;
    }
    next.orTimeout(left, TimeUnit.NANOSECONDS).whenComplete((v, e) -> {
      if (e != null) {
        done.complete(null);  // the wait is over: answer with what there is
      } else {
        park(polls, key, client, index, since, deadline, done);
      }
    });
  }
}
