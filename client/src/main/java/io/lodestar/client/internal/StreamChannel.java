package io.lodestar.client.internal;

import io.lodestar.api.v1.CallStatsReport;
import io.lodestar.api.v1.QuotaGrant;
import io.lodestar.api.v1.QuotaReport;
import io.lodestar.client.LodestarClient;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Governance messages on a client's stream: the governance package sends cluster rate-limit usage
 * reports and takes the server's grants here, and the call-statistics reporter sends its windows. Plumbing between two SDK packages, kept off
 * {@link LodestarClient}'s public API: the client hands its channel out through {@link #of}.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public interface StreamChannel {
  /** Sends a report; completes with false when no server is connected. Does not block. */
  CompletableFuture<Boolean> send(QuotaReport report);

  /** Where the server's grants go (on the client's control thread: be quick). */
  void onGrant(Consumer<QuotaGrant> handler);

  /**
   * Sends one window of call statistics. Completes with false when no server is connected: the
   * window is lost, which telemetry accepts. Does not block.
   */
  CompletableFuture<Boolean> sendCallStats(CallStatsReport report);

  /** The stream channel of a client. */
  static StreamChannel of(LodestarClient client) {
    Objects.requireNonNull(client, "client");
    return Access.opener.apply(client);
  }

  /** Set once, by LodestarClient's class initialiser (which has run: a client exists). */
  final class Access {
    private static volatile Function<LodestarClient, StreamChannel> opener;

    private Access() {}

    public static void install(Function<LodestarClient, StreamChannel> o) {
      if (opener != null) {
        throw new IllegalStateException("installed already");
      }
      opener = o;
    }
  }
}
