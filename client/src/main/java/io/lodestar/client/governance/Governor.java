package io.lodestar.client.governance;

import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.ServiceListener;
import io.lodestar.client.ServiceSnapshot;
import io.lodestar.client.ratelimit.Sleeper;
import io.lodestar.client.route.CallContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Traffic governance on top of a {@link LodestarClient}: {@link #choose} an instance for a call
 * (routing → circuit-breaker filtering → load balancing), {@link #report} how the call went, or let
 * a decorator ({@link #call}, {@link #decorateSupplier}, {@link #decorateCallable},
 * {@link #decorateCompletionStage}) do both, with rate limits applied first.
 *
 * <pre>{@code
 * Governor gov = Governor.builder(client).callerLabels(Map.of("zone", "sh-1")).build();
 * String body = gov.call("orders", CallContext.builder().method("/list").build(), i -> http(i, "/list"));
 * }</pre>
 *
 * <p>Design: one {@link ServiceGovernor} per service, created on the first call for it. It is
 * primed from the client's current snapshot and then kept current by a subscription: instances and
 * the pushed rules arrive together, on the client's listener thread, and each update builds new
 * immutable pickers. The hot path is two lock-free map lookups plus the governor's choose: no
 * lock, no allocation. Cluster-scoped rate limits are kept in step with the server by a
 * {@link QuotaClient} (one report per second; the client's quota-grant handler is taken by the
 * last Governor built on it).
 */
public final class Governor implements AutoCloseable {
  public static final java.time.Duration DEFAULT_QUOTA_REPORT_INTERVAL = java.time.Duration.ofSeconds(1);
  private final LodestarClient client;
  private final String namespace;
  private final Map<String, String> callerLabels;
  private final Ticker ticker;
  private final RandomSource random;
  private final Sleeper sleeper;
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Entry>> services = new ConcurrentHashMap<>();
  private final List<Runnable> onClose = new ArrayList<>();
  private final QuotaClient quota;
  private final io.lodestar.client.internal.stats.CallStatsReporter stats;

  /** One service's governor and the revision it was last updated to. */
  private final class Entry {
    final String namespace;
    final String service;
    final ServiceGovernor governor;
    volatile boolean primed;
    private long applied = -1;

    Entry(String namespace, String service) {
      this.namespace = namespace;
      this.service = service;
      this.governor = new ServiceGovernor(namespace + "/" + service, callerLabels, ticker, random, sleeper);
    }

    /** Priming and the subscription race; the newer revision wins. */
    synchronized void apply(ServiceSnapshot s) {
      if (s.revision() < applied) {
        return;
      }
      applied = s.revision();
      governor.update(s.healthyInstances(), s.rules());
    }
  }

  private Governor(Builder b) {
    this.client = b.client;
    this.namespace = b.namespace;
    this.callerLabels = Map.copyOf(b.callerLabels);
    this.ticker = b.ticker;
    this.random = b.random;
    this.sleeper = b.sleeper;
    this.quota = new QuotaClient(client, this::governed, this::clusterLimiter, ticker, b.quotaReportInterval);
    String caller = b.callerService.isEmpty() ? callerLabels.getOrDefault("service", "") : b.callerService;
    this.stats = new io.lodestar.client.internal.stats.CallStatsReporter(client, namespace, caller,
        this::serviceCalls, b.callStatsWindow);
  }

  private List<io.lodestar.client.internal.stats.ServiceCalls> serviceCalls() {
    List<io.lodestar.client.internal.stats.ServiceCalls> out = new ArrayList<>();
    services.forEach((ns, byName) -> byName.forEach((svc, e) -> out.add(e.governor.calls())));
    return out;
  }

  private List<QuotaClient.Governed> governed() {
    List<QuotaClient.Governed> out = new ArrayList<>();
    services.forEach((ns, byName) -> byName.forEach((svc, e) -> {
      if (e.primed) {
        out.add(new QuotaClient.Governed(ns, svc, e.governor));
      }
    }));
    return out;
  }

  private io.lodestar.client.ratelimit.ClusterLimiter clusterLimiter(io.lodestar.api.v1.QuotaShare s) {
    ConcurrentHashMap<String, Entry> byName = services.get(s.getNamespace());
    Entry e = byName == null ? null : byName.get(s.getService());
    var rule = e == null ? null : e.governor.rateLimits().find(s.getRule());
    return rule != null && rule.limiter() instanceof io.lodestar.client.ratelimit.ClusterLimiter c ? c : null;
  }

  public static Builder builder(LodestarClient client) {
    return new Builder(client);
  }

  // ------------------------------------------------------------------ choose / report

  /** Chooses an instance of a service of the default namespace. See {@link ServiceGovernor#choose}. */
  public Instance choose(String service, CallContext call) {
    return governor(namespace, service).choose(call);
  }

  public Instance choose(String namespace, String service, CallContext call) {
    return governor(namespace, service).choose(call);
  }

  /** Reports a call's outcome; feeds the instance's breaker, the adaptive balancer and the statistics. */
  public void report(Instance instance, Outcome outcome, long latencyNanos) {
    report(instance, CallContext.empty(), outcome, latencyNanos);
  }

  /** As {@link #report(Instance, Outcome, long)}, also feeding the call's method breaker. */
  public void report(Instance instance, CallContext call, Outcome outcome, long latencyNanos) {
    governor(instance.namespace(), instance.service()).report(instance, call,
        outcome == Outcome.SUCCESS ? null : ErrorKind.ERROR, latencyNanos);
  }

  /**
   * As {@link #report(Instance, CallContext, Outcome, long)} with why the call failed, for the
   * call statistics ({@code error} null for a success). Never blocks; no allocation.
   */
  public void report(Instance instance, CallContext call, ErrorKind error, long latencyNanos) {
    governor(instance.namespace(), instance.service()).report(instance, call, error, latencyNanos);
  }

  /**
   * The lane a call to a service is in (its {@code x-lodestar-lane} header, else the first lane
   * rule that matches it), or null. The Spring and grpc integrations send it on as the header.
   */
  public String lane(String namespace, String service, CallContext call) {
    return governor(namespace, service).lane(call);
  }

  /** Why a call to a service went to the instance {@link #choose} returned (for trace attributes). */
  public RouteDecision explain(String namespace, String service, CallContext call, Instance chosen) {
    return governor(namespace, service).explain(call, chosen);
  }

  /** The header a request's lane travels in (docs/api.md#lane). */
  public static final String LANE_HEADER = Lanes.HEADER;

  /** Sends the current call-statistics window now (tests; the timer sends one each window). */
  public void flushCallStats() {
    stats.send();
  }

  /**
   * Applies the service's rate limits to a call (waiting where a rule says so).
   *
   * @throws GovernanceException with reason RATE_LIMITED when refused
   */
  public void acquire(String service, CallContext call) {
    acquire(governor(namespace, service), call);
  }

  private static void acquire(ServiceGovernor g, CallContext call) {
    try {
      g.acquire(call);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GovernanceException(GovernanceException.Reason.RATE_LIMITED, "interrupted waiting for a permit");
    }
  }

  // ------------------------------------------------------------------ decorators

  /**
   * Runs one governed call: rate limits, choose, the call, report (an exception counts as a
   * failure and is rethrown).
   */
  public <T> T call(String service, CallContext ctx, InstanceCall<T> call) throws Exception {
    ServiceGovernor g = governor(namespace, service);
    acquire(g, ctx);
    Instance i = g.choose(ctx);
    long start = ticker.nanos();
    try {
      T result = call.call(i);
      g.report(i, ctx, true, ticker.nanos() - start);
      return result;
    } catch (Exception e) {
      g.report(i, ctx, false, ticker.nanos() - start);
      throw e;
    }
  }

  /** A Supplier that makes one governed call each time it is asked. */
  public <T> Supplier<T> decorateSupplier(String service, CallContext ctx, Function<Instance, T> call) {
    return () -> {
      try {
        return call(service, ctx, call::apply);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);  // unreachable: a Function throws no checked exception
      }
    };
  }

  /** A Callable that makes one governed call each time it is called. */
  public <T> Callable<T> decorateCallable(String service, CallContext ctx, InstanceCall<T> call) {
    return () -> call(service, ctx, call);
  }

  /**
   * An asynchronous governed call: the outcome is reported when the stage completes. Governance
   * refusals (rate limit, open breaker, no instance) come back as a failed stage.
   */
  public <T> Supplier<CompletionStage<T>> decorateCompletionStage(String service, CallContext ctx,
      Function<Instance, CompletionStage<T>> call) {
    return () -> {
      ServiceGovernor g;
      Instance i;
      try {
        g = governor(namespace, service);
        acquire(g, ctx);
        i = g.choose(ctx);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
      long start = ticker.nanos();
      CompletionStage<T> stage;
      try {
        stage = call.apply(i);
      } catch (RuntimeException e) {
        g.report(i, ctx, false, ticker.nanos() - start);
        return CompletableFuture.failedFuture(e);
      }
      return stage.whenComplete((r, err) -> g.report(i, ctx, err == null, ticker.nanos() - start));
    };
  }

  // ------------------------------------------------------------------ views

  /** The governor of a service (created and primed on first use): breaker states, factors, limits. */
  public ServiceGovernor governor(String namespace, String service) {
    ConcurrentHashMap<String, Entry> byName = services.get(namespace);
    Entry e = byName == null ? null : byName.get(service);
    if (e != null && e.primed) {
      return e.governor;
    }
    return prime(namespace, service);
  }

  private ServiceGovernor prime(String namespace, String service) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(service, "service");
    Entry e;
    boolean created = false;
    synchronized (this) {
      ConcurrentHashMap<String, Entry> byName = services.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>());
      e = byName.get(service);
      if (e == null) {
        e = new Entry(namespace, service);
        byName.put(service, e);
        created = true;
      }
    }
    if (created) {
      Entry entry = e;
      ServiceListener l = ev -> entry.apply(ev.snapshot());
      client.subscribe(namespace, service, l);
      synchronized (this) {
        onClose.add(() -> client.unsubscribe(namespace, service, l));
      }
    }
    e.apply(client.snapshot(namespace, service));  // blocks for the first list, like the client's reads
    e.primed = true;
    return e.governor;
  }

  @Override
  public synchronized void close() {
    quota.close();
    stats.close();
    onClose.forEach(Runnable::run);
    onClose.clear();
    services.clear();
  }

  public static final class Builder {
    private final LodestarClient client;
    private String namespace;
    private Map<String, String> callerLabels = Map.of();
    private Ticker ticker = Ticker.system();
    private RandomSource random = RandomSource.threadLocal();
    private Sleeper sleeper = Sleeper.system();
    private java.time.Duration quotaReportInterval = DEFAULT_QUOTA_REPORT_INTERVAL;
    private String callerService = "";
    private java.time.Duration callStatsWindow = io.lodestar.client.internal.stats.CallStatsReporter.DEFAULT_WINDOW;

    private Builder(LodestarClient client) {
      this.client = Objects.requireNonNull(client, "client");
      this.namespace = client.namespace();
    }

    /** Namespace of the service names passed without one. Default: the client's. */
    public Builder namespace(String namespace) {
      this.namespace = Objects.requireNonNull(namespace, "namespace");
      return this;
    }

    /** This caller's labels: matched by route rules' {@code caller} conditions and the nearby router. */
    public Builder callerLabels(Map<String, String> labels) {
      this.callerLabels = Objects.requireNonNull(labels, "callerLabels");
      return this;
    }

    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    public Builder random(RandomSource random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /** How often cluster rate-limit usage is reported (and shares rebalanced). Default 1 s. */
    public Builder quotaReportInterval(java.time.Duration interval) {
      if (interval == null || interval.toMillis() < 10) {
        throw new IllegalArgumentException("quotaReportInterval must be at least 10 ms");
      }
      this.quotaReportInterval = interval;
      return this;
    }

    /**
     * The name of the service this application is: the caller of every edge in the call
     * statistics (docs/observability.md). Default: the caller label {@code service}, else empty.
     */
    public Builder callerService(String service) {
      this.callerService = Objects.requireNonNull(service, "callerService");
      return this;
    }

    /** How long each call-statistics window is before it is sent. Default 10 s. */
    public Builder callStatsWindow(java.time.Duration window) {
      if (window == null || window.toMillis() < 100) {
        throw new IllegalArgumentException("callStatsWindow must be at least 100 ms");
      }
      this.callStatsWindow = window;
      return this;
    }

    public Governor build() {
      return new Governor(this);
    }
  }
}
