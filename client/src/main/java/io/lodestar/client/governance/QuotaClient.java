package io.lodestar.client.governance;

import io.lodestar.api.v1.QuotaGrant;
import io.lodestar.api.v1.QuotaReport;
import io.lodestar.api.v1.QuotaShare;
import io.lodestar.api.v1.QuotaUsage;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.internal.Logs;
import io.lodestar.client.internal.StreamChannel;
import io.lodestar.client.ratelimit.ClusterLimiter;
import io.lodestar.client.internal.ratelimit.RateLimitTable;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The SDK's side of cluster-wide rate limits: once per interval it reports each cluster limiter's
 * used and refused permits on the client's stream; the server answers with this SDK's share, which
 * becomes the limiter's rate. When grants stop coming (no server, or it does not answer) for three
 * intervals, every limiter falls back to the global limit divided by the sharers last known.
 *
 * <p>Threading: reports run on this class's one scheduler thread; grants arrive on the client's
 * control thread. Both only touch limiters (thread-safe) and one volatile timestamp.
 */
final class QuotaClient implements AutoCloseable {
  /** One service's governor, as the quota client needs it. */
  record Governed(String namespace, String service, ServiceGovernor governor) {}

  private final StreamChannel quotas;
  private final Supplier<List<Governed>> services;
  private final Function<QuotaShare, ClusterLimiter> lookup;
  private final Ticker ticker;
  private final long intervalNanos;
  private final ScheduledExecutorService timer;
  private long lastTick;
  private volatile long lastGrant;

  QuotaClient(LodestarClient client, Supplier<List<Governed>> services, Function<QuotaShare, ClusterLimiter> lookup,
      Ticker ticker, Duration interval) {
    this.quotas = StreamChannel.of(client);
    this.services = services;
    this.lookup = lookup;
    this.ticker = ticker;
    this.intervalNanos = interval.toNanos();
    this.lastTick = ticker.nanos();
    this.lastGrant = lastTick;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lodestar-quota");
      t.setDaemon(true);
      return t;
    });
    quotas.onGrant(this::onGrant);
    long ms = Math.max(1, interval.toMillis());
    timer.scheduleWithFixedDelay(this::tickSafely, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      Logs.get(QuotaClient.class.getName()).log(System.Logger.Level.WARNING, "quota report failed", e);
    }
  }

  void tick() {
    long now = ticker.nanos();
    int periodMs = (int) Math.max(1, (now - lastTick) / 1_000_000);
    lastTick = now;
    QuotaReport.Builder report = QuotaReport.newBuilder();
    for (Governed g : services.get()) {
      RateLimitTable limits = g.governor().rateLimits();
      for (ClusterLimiter c : limits.clusterLimiters()) {
        report.addUsages(QuotaUsage.newBuilder().setNamespace(g.namespace()).setService(g.service())
            .setRule(c.name()).setUsed(c.drainUsage()).setRefused(c.drainRefused()).setPeriodMs(periodMs));
      }
    }
    if (report.getUsagesCount() == 0) {
      return;
    }
    quotas.send(report.build());
    if (now - lastGrant > 3 * intervalNanos) {
      for (Governed g : services.get()) {
        g.governor().rateLimits().clusterLimiters().forEach(ClusterLimiter::fallBackToLastKnown);
      }
    }
  }

  private void onGrant(QuotaGrant grant) {
    lastGrant = ticker.nanos();
    for (QuotaShare s : grant.getSharesList()) {
      ClusterLimiter c = lookup.apply(s);
      if (c != null) {
        c.grant(s.getPermitsPerSecond(), s.getSharers());
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
