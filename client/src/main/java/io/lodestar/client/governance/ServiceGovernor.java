package io.lodestar.client.governance;

import io.lodestar.api.v1.GovernanceRules;
import io.lodestar.client.internal.RuleSet;
import io.lodestar.client.Instance;
import io.lodestar.client.breaker.CircuitBreaker;
import io.lodestar.client.governance.GovernanceException.Reason;
import io.lodestar.client.lb.AdaptiveUpdater;
import io.lodestar.client.lb.EndpointLoad;
import io.lodestar.client.lb.Hashing;
import io.lodestar.client.lb.LbPolicy;
import io.lodestar.client.lb.LoadBalancers;
import io.lodestar.client.lb.Picker;
import io.lodestar.client.internal.ratelimit.RateLimitTable;
import io.lodestar.client.ratelimit.Sleeper;
import io.lodestar.client.route.CallContext;
import io.lodestar.client.internal.route.Nearby;
import io.lodestar.client.internal.route.RouteTable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Traffic governance of one service for one caller: {@link #choose} runs routing, circuit-breaker
 * filtering and load balancing; {@link #report} feeds breakers, the adaptive balancer and the
 * per-instance statistics; {@link #acquire} applies rate limits.
 *
 * <p>Design (after grpc-java's pickers): everything {@code choose()} needs is precomputed into an
 * immutable {@link Plan} (one picker per route destination, built over the instances that are in
 * the subset, not ejected by a breaker, and in the nearest tier that is healthy enough) and
 * published by one volatile write. A choose is a volatile read, a rule match and a pick: no lock,
 * no allocation. A new plan is built when membership or rules change ({@link #update}), when a
 * breaker changes state, when an open breaker's time is up, or when the adaptive balancer moves
 * a factor. Builds never block callers: the first thread to ask builds (Caffeine's drain pattern:
 * a CAS-guarded loop that also absorbs requests made while it ran); everyone else keeps using the
 * current plan.
 *
 * <p>Time comes from the injected {@link Ticker}, randomness from the injected {@link RandomSource}.
 */
public final class ServiceGovernor {
  private static final int PICK_ATTEMPTS = 3;

  private final String service;
  private final Map<String, String> caller;
  private final Ticker ticker;
  private final RandomSource random;
  private final Sleeper sleeper;
  private final AtomicBoolean building = new AtomicBoolean();
  private final io.lodestar.client.internal.stats.ServiceCalls calls;
  private final CircuitBreaker.Listener onTransition = (b, from, to) -> rebuild();
  private volatile boolean rebuildWanted;
  private volatile Inputs inputs;
  private volatile Plan plan;

  private record Inputs(Member[] members, CompiledRules rules, AdaptiveUpdater adaptive) {}

  /**
   * Everything choose() reads, immutable. {@code pickers} and {@code slots} are per lane view
   * (lanes, then the baseline; one view when no lane rule applies), then per route subset.
   */
  private record Plan(CompiledRules rules, AdaptiveUpdater adaptive, Map<String, Member> byId, Member[] all,
      Picker[][] pickers, Member[][][] slots, int allSlot, long nextCheckNanos) {}

  public ServiceGovernor(String service, Map<String, String> callerLabels, Ticker ticker, RandomSource random,
      Sleeper sleeper) {
    this.service = service;
    int slash = service.indexOf('/');
    this.calls = slash < 0 ? new io.lodestar.client.internal.stats.ServiceCalls("", service)
        : new io.lodestar.client.internal.stats.ServiceCalls(service.substring(0, slash), service.substring(slash + 1));
    this.caller = Map.copyOf(callerLabels);
    this.ticker = ticker;
    this.random = random;
    this.sleeper = sleeper;
    update(List.of(), RuleSet.EMPTY);
  }

  public String service() {
    return service;
  }

  // ------------------------------------------------------------------ control (one thread)

  /**
   * New instances or rules. {@code instances} are the ones to route over (the SDK passes the
   * healthy list after its protection threshold). Call from one thread at a time.
   */
  public void update(List<Instance> instances, Rules rules) {
    update(instances, RuleSet.proto(rules));
  }

  /** {@link #update(List, Rules)} with the rules' wire form (the SDK's own callers, tests). */
  synchronized void update(List<Instance> instances, GovernanceRules rules) {
    Inputs old = inputs;
    CompiledRules previous = old == null ? null : old.rules;
    CompiledRules compiled = previous != null && previous.source().equals(rules) ? previous
        : CompiledRules.compile(service, rules, caller, previous, ticker, sleeper, onTransition);
    Map<String, Member> oldById = new HashMap<>();
    if (old != null) {
      for (Member m : old.members) {
        oldById.put(m.id(), m);
      }
    }
    List<Instance> usable = new ArrayList<>(instances);
    usable.sort(Comparator.comparing(Instance::id));
    Member[] members = new Member[usable.size()];
    for (int k = 0; k < members.length; k++) {
      Instance i = usable.get(k);
      Member prev = oldById.get(i.id());
      EndpointLoad load = prev != null ? prev.load : new EndpointLoad();
      CircuitBreaker breaker;
      if (compiled.instanceBreaker() == null) {
        breaker = null;
      } else if (prev != null && prev.breaker != null && prev.breaker.config().equals(compiled.instanceBreaker())) {
        breaker = prev.breaker;
      } else {
        breaker = new CircuitBreaker(service + "/" + i.id(), compiled.instanceBreaker(), ticker, onTransition);
      }
      members[k] = prev != null && prev.instance.equals(i) && prev.breaker == breaker ? prev
          : new Member(i, load, breaker);
    }
    AdaptiveUpdater adaptive = compiled.policy() == LbPolicy.ADAPTIVE
        ? (old != null && old.adaptive != null && compiled == previous ? old.adaptive
            : new AdaptiveUpdater(compiled.adaptive(), ticker.nanos()))
        : null;
    inputs = new Inputs(members, compiled, adaptive);
    rebuild();
  }

  // ------------------------------------------------------------------ hot path (any thread)

  /**
   * Chooses an instance for a call: route → breaker filter → balance.
   *
   * @throws GovernanceException when no instance can be offered (see {@link Reason})
   */
  public Instance choose(CallContext call) {
    Plan p = plan;
    if (p.nextCheckNanos != Long.MAX_VALUE && ticker.nanos() - p.nextCheckNanos >= 0) {
      rebuild();  // an open breaker's time is up: its instance may take probes again
      p = plan;
    }
    CompiledRules r = p.rules;
    CircuitBreaker sb = r.serviceBreaker();
    if (sb != null && !sb.tryAcquire()) {
      throw new GovernanceException(Reason.CIRCUIT_OPEN, "circuit breaker of service " + service + " is open");
    }
    if (!r.methodBreakers().isEmpty()) {
      CircuitBreaker mb = r.methodBreakers().get(call.method());
      if (mb != null && !mb.tryAcquire()) {
        throw new GovernanceException(Reason.CIRCUIT_OPEN,
            "circuit breaker of " + service + " method " + call.method() + " is open");
      }
    }
    Lanes lanes = r.lanes();
    int lane = lanes.resolve(call);
    if (lane != lanes.baseline() && p.slots[lane][p.allSlot].length == 0) {
      if (lanes.failClosed(lane)) {
        throw new GovernanceException(Reason.LANE_EMPTY, "no instance of " + service + " in lane "
            + lanes.name(lane) + " (lane fallback is fail)");
      }
      lane = lanes.baseline();  // the lane passes through this service's baseline
    }
    Member[][] slots = p.slots[lane];
    int subset = r.route().select(call, random.nextLong());
    int slot = subset == RouteTable.ALL ? p.allSlot : subset;
    Member[] members = slots[slot];
    if (members.length == 0) {
      if (subset != RouteTable.ALL && r.route().failWhenEmpty()) {
        throw new GovernanceException(Reason.SUBSET_EMPTY, "no instance of " + service + " in subset "
            + r.route().subsets().get(subset) + " (route fallback is fail)");
      }
      slot = p.allSlot;
      members = slots[slot];
      if (members.length == 0) {
        throw new GovernanceException(Reason.NO_INSTANCE, "service " + service + " has no instance");
      }
    }
    long keyHash = keyHash(r, call);
    Picker picker = p.pickers[lane][slot];
    Member chosen = null;
    for (int attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
      chosen = members[picker.pick(random.nextLong(), keyHash)];
      CircuitBreaker b = chosen.breaker;
      // Only half-open instances ration calls; open ones are here only because of the ejection cap.
      if (b == null || b.state() != CircuitBreaker.State.HALF_OPEN || b.tryAcquire()) {
        break;
      }
    }
    chosen.load.onStart();
    return chosen.instance;
  }

  private static long keyHash(CompiledRules r, CallContext call) {
    if (!r.hashHeader().isEmpty()) {
      String v = call.header(r.hashHeader());
      return v == null ? 0 : Hashing.hash(v);
    }
    if (!r.hashLabel().isEmpty()) {
      String v = call.label(r.hashLabel());
      return v == null ? 0 : Hashing.hash(v);
    }
    return call.hashKeyHash();
  }

  /** Reports the outcome of a call made to an instance that {@link #choose} returned. */
  public void report(Instance instance, CallContext call, boolean success, long latencyNanos) {
    report(instance, call, success ? null : ErrorKind.ERROR, latencyNanos);
  }

  /**
   * Reports a call's outcome with why it failed ({@code error} null for a success): breakers and
   * balancers see success or failure, the call statistics also the kind.
   */
  public void report(Instance instance, CallContext call, ErrorKind error, long latencyNanos) {
    boolean success = error == null;
    calls.record(instance.id(), call.method(), error, latencyNanos);
    Plan p = plan;
    Member m = p.byId.get(instance.id());
    if (m != null) {
      m.load.onFinish(success, latencyNanos);
      if (m.breaker != null) {
        m.breaker.onResult(success, latencyNanos);
      }
    }
    CompiledRules r = p.rules;
    if (r.serviceBreaker() != null) {
      r.serviceBreaker().onResult(success, latencyNanos);
    }
    if (!r.methodBreakers().isEmpty()) {
      CircuitBreaker mb = r.methodBreakers().get(call.method());
      if (mb != null) {
        mb.onResult(success, latencyNanos);
      }
    }
    AdaptiveUpdater a = p.adaptive;
    if (a != null) {
      long now = ticker.nanos();
      if (a.due(now) && a.maybeUpdate(now, List.of(p.all))) {
        rebuild();
      }
    }
  }

  /**
   * Applies the rate limits that match the call, waiting where a rule says so.
   *
   * @throws GovernanceException with {@link Reason#RATE_LIMITED} when a rule refuses the call
   */
  public void acquire(CallContext call) throws InterruptedException {
    RateLimitTable.Entry refused = plan.rules.rateLimits().acquire(call);
    if (refused != null) {
      throw new GovernanceException(Reason.RATE_LIMITED,
          "rate limit " + refused.name() + " of " + service + " refused the call");
    }
  }

  // ------------------------------------------------------------------ views (tests, demo, quota)

  /** This caller's call statistics for the service, drained once per window by the reporter. */
  io.lodestar.client.internal.stats.ServiceCalls calls() {
    return calls;
  }

  /**
   * The lane a call is in, by its {@code x-lodestar-lane} header or a lane rule's match; null when
   * it is in none. Integrations send it on as that header, so the lane holds on every hop.
   */
  public String lane(CallContext call) {
    Lanes lanes = plan.rules.lanes();
    return lanes.name(lanes.resolve(call));
  }

  /**
   * Why {@link #choose} sent a call to an instance: the route rule that matched, the subset the
   * instance was picked from and the lane. For traces; allocates, so not on the hot path.
   */
  public RouteDecision explain(CallContext call, Instance chosen) {
    CompiledRules r = plan.rules;
    Map<String, String> subset = r.route().subsetOf(call, chosen.metadata());
    return new RouteDecision(r.route().matchedRule(call), subset == null ? null : RouteDecision.format(subset),
        lane(call), chosen.id());
  }

  /** How many instances the governor routes over. */
  public int size() {
    return plan.all.length;
  }

  /** The rules in force (as last given to {@link #update}). */
  public Rules rules() {
    return RuleSet.of(plan.rules.source());
  }

  RateLimitTable rateLimits() {
    return plan.rules.rateLimits();
  }

  /** The limiter of the rate-limit rule with this name, or null when no such rule is in force. */
  public io.lodestar.client.ratelimit.RateLimiter rateLimiter(String rule) {
    RateLimitTable.Entry e = plan.rules.rateLimits().find(rule);
    return e == null ? null : e.limiter();
  }

  /** The breaker state of an instance, or null when it has none (unknown id, or breakers off). */
  public CircuitBreaker.State breakerState(String instanceId) {
    Member m = plan.byId.get(instanceId);
    return m == null || m.breaker == null ? null : m.breaker.state();
  }

  /** The adaptive factor of an instance (1 when not adaptive), or NaN for an unknown id. */
  public double factor(String instanceId) {
    Member m = plan.byId.get(instanceId);
    return m == null ? Double.NaN : m.load.factor();
  }

  // ------------------------------------------------------------------ plan building

  private void rebuild() {
    rebuildWanted = true;
    while (rebuildWanted && building.compareAndSet(false, true)) {
      try {
        rebuildWanted = false;
        plan = build(inputs, ticker.nanos());
      } finally {
        building.set(false);
      }
    }
  }

  private Plan build(Inputs in, long now) {
    CompiledRules r = in.rules;
    Member[] all = in.members;
    int n = all.length;
    // Ejection: open breakers take their instance out, earliest first, up to the cap.
    List<Member> open = new ArrayList<>();
    long nextCheck = Long.MAX_VALUE;
    for (Member m : all) {
      if (m.breaker != null && m.breaker.state(now) == CircuitBreaker.State.OPEN) {
        open.add(m);
        nextCheck = Math.min(nextCheck, m.breaker.reopensAt());
      }
    }
    open.sort(Comparator.comparingLong((Member m) -> m.breaker.reopensAt()).thenComparing(Member::id));
    int cap = n < 2 ? 0 : Math.max(1, (int) Math.floor(r.maxEjectionShare() * n));
    java.util.Set<Member> ejected = new java.util.HashSet<>(open.subList(0, Math.min(cap, open.size())));

    List<Map<String, String>> subsets = r.route().subsets();
    Lanes lanes = r.lanes();
    Picker[][] pickers = new Picker[lanes.count() + 1][subsets.size() + 1];
    Member[][][] slots = new Member[lanes.count() + 1][subsets.size() + 1][];
    Nearby nearby = r.route().nearby();
    long start = random.nextLong();
    for (int lane = 0; lane <= lanes.count(); lane++) {
      for (int s = 0; s <= subsets.size(); s++) {
        List<Member> candidates = new ArrayList<>();
        for (Member m : all) {
          if (lanes.of(m.instance.metadata()) == lane
              && (s == subsets.size() || RouteTable.inSubset(subsets.get(s), m.instance.metadata()))) {
            candidates.add(m);
          }
        }
        List<Member> chosen = nearby.select(candidates, m -> m.instance.metadata(), m -> !ejected.contains(m),
            caller).members();
        slots[lane][s] = chosen.toArray(new Member[0]);
        pickers[lane][s] = LoadBalancers.picker(r.policy(), chosen, start);
      }
    }
    Map<String, Member> byId = new HashMap<>();
    for (Member m : all) {
      byId.put(m.id(), m);
    }
    return new Plan(r, in.adaptive, Map.copyOf(byId), all, pickers, slots, subsets.size(), nextCheck);
  }
}
