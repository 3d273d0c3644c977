package io.lodestar.server.console;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.file.FileService;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.naming.Registry;
import io.lodestar.server.config.ConfigClients;
import io.lodestar.server.http.Routes;
import io.lodestar.server.naming.HealthChecker;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The web console: server-rendered HTML pages and htmx fragments under {@code /ui/}, on the
 * node's one port (docs/console.md). {@code /} redirects to {@code /ui/}.
 *
 * <p>Reads come from the state machine's immutable views (a page is one pass over them, no
 * copy); writes are the node's own REST API over loopback ({@link LoopbackApi}). Live regions
 * reload on the change feed ({@link ConsoleEvents}).
 *
 * <p>Auth: every console route is under {@code /ui/}; the server's one auth decorator
 * ({@link io.lodestar.server.auth.AuthDecorator}) checks each page (pages of a namespace need
 * read on it) and sends a browser without a token to {@link ConsoleLogin}'s form.
 */
public final class Console implements AutoCloseable {
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "lodestar-console");
    t.setDaemon(true);
    return t;
  });
  private final Registry registry;
  private final ConfigStore configs;
  private final ConfigClients configClients;
  private final HealthChecker health;
  private final MeterRegistry meters;
  private final ConsoleEvents events;

  public Console(Registry registry, ConfigStore configs, ConfigClients configClients, HealthChecker health,
      MeterRegistry meters) {
    this.registry = registry;
    this.configs = configs;
    this.configClients = configClients;
    this.health = health;
    this.meters = meters;
    this.events = new ConsoleEvents(scheduler, meters);
    registry.addListener(events);
    configs.addListener(events);
  }

  /** Null: plaintext, Armeria's default factory. */
  private java.util.function.Supplier<com.linecorp.armeria.client.ClientFactory> tlsFactory;
  private LoopbackApi api;

  /**
   * How the loopback API makes its client factory when the node serves TLS: with the node's TLS
   * settings. Called on the console's first write, so a start loads no HTTP client.
   */
  public void loopbackClientFactory(java.util.function.Supplier<com.linecorp.armeria.client.ClientFactory> factory) {
    this.tlsFactory = factory;
  }

  /**
   * Adds the console's routes.
   *
   * @param port the node's bound port, for the loopback API (known once the server started)
   * @param gate the decorator every console route goes through: identity today, auth tomorrow
   */
  public void install(ServerBuilder sb, IntSupplier port,
      Function<? super HttpService, ? extends HttpService> gate, io.lodestar.server.auth.Authorizer authorizer) {
    api = new LoopbackApi(port, tlsFactory);
    MeterRates rates = new MeterRates(meters, scheduler);
    ClassLoader cl = Console.class.getClassLoader();
    sb.service("/", (ctx, req) -> HttpResponse.ofRedirect("/ui/"));
    sb.service("/ui", (ctx, req) -> HttpResponse.ofRedirect("/ui/"));
    sb.serviceUnder("/ui/webjars/", FileService.builder(cl, "META-INF/resources/webjars")
        .maxCacheEntries(16).cacheControl("max-age=604800").build());
    sb.serviceUnder("/ui/assets/", FileService.builder(cl, "io/lodestar/server/console/assets")
        .maxCacheEntries(16).build());
    Routes.install(sb, new OverviewPage(registry, rates, api));
    Routes.install(sb, new ServicePages(registry, health, api));
    Routes.install(sb, new ConfigPages(registry, configs, configClients, api));
    Routes.install(sb, new ConfigHistoryPanel(configs, api));
    Routes.install(sb, new GrayPanel(configs, configClients, api));
    Routes.install(sb, new RulePages(registry, api));
    Routes.install(sb, new ClusterPage(api));
    Routes.install(sb, new TopologyPage(api));
    Routes.install(sb, events);
    Routes.install(sb, new ConsoleLogin(authorizer));
    sb.decoratorUnder("/ui/", gate);
  }

  @Override
  public void close() {
    events.close();
    scheduler.shutdownNow();
    if (api != null) {
      api.close();
    }
  }
}
