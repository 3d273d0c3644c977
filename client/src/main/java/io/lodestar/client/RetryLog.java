package io.lodestar.client;

import io.lodestar.client.internal.Logs;
import java.lang.System.Logger.Level;

/**
 * Says at INFO that the server refused writes for now and the client is backing off, at most
 * once per {@link #INTERVAL_NANOS}: under overload every refused write is retried, and a line
 * each would flood the application's log. Control thread only.
 */
final class RetryLog {
  static final long INTERVAL_NANOS = 10_000_000_000L;
  private static final System.Logger LOG = Logs.get(LodestarClient.class.getName());

  private final String clientId;
  private long retried;
  private long total;
  private long lastLogNanos = System.nanoTime() - INTERVAL_NANOS;

  RetryLog(String clientId) {
    this.clientId = clientId;
  }

  /** One write refused for now, to be sent again after {@code delayMillis}. */
  void retried(String what, String reason, long delayMillis) {
    retried++;
    total++;
    long now = System.nanoTime();
    if (now - lastLogNanos >= INTERVAL_NANOS) {
      LOG.log(Level.INFO, "Lodestar client {0}: the server refused {1} write(s) for now ({2}: {3}); "
          + "retrying each with backoff, this one in {4} ms ({5} retried since start)", clientId, retried, what,
          reason, delayMillis, total);
      retried = 0;
      lastLogNanos = now;
    }
  }

  /** Writes retried since the client started. */
  long total() {
    return total;
  }
}
