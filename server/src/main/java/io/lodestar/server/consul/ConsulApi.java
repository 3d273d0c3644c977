package io.lodestar.server.consul;

import com.linecorp.armeria.server.ServerBuilder;
import io.lodestar.core.StateMachine;
import io.lodestar.core.kv.KvStore;
import io.lodestar.server.http.Routes;
import io.lodestar.server.naming.HealthChecker;
import io.lodestar.server.storage.CommandLog;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Consul's HTTP API, an adapter at the server's edge: it maps Consul's agent, catalog, health,
 * KV and status endpoints onto the registry and the key/value store; the core knows nothing of
 * Consul. Every route passes one {@link ConsulGate} (tokens, consistency; where auth will plug in)
 * and answers errors in Consul's plain-text style ({@link ConsulErrors}).
 *
 * <p>Create it before the log is opened, so that its directory sees the replayed state.
 */
public final class ConsulApi {
  /** The Consul version reported by {@code /v1/agent/self}, for tools that check it. */
  static final String VERSION = "1.17.0";
  /** Room for a 512 KiB value plus headers of the request, so the handler answers 413 itself. */
  public static final int MAX_REQUEST_BYTES = KvStore.MAX_VALUE_BYTES + (64 << 10);

  private final ConsulGate gate;
  private final ConsulErrors errors = new ConsulErrors();
  private final ConsulAgentService agent;
  private final ConsulCatalogService catalog;
  private final ConsulKvService kv;

  /**
   * @param node this server as a Consul node: its name, address and datacenter
   * @param leader the leader's client address ({@code /v1/status/leader})
   * @param peers the members' client addresses ({@code /v1/status/peers})
   */
  public ConsulApi(StateMachine state, CommandLog commandLog, HealthChecker health, Executor notifier,
      MeterRegistry meters, String nodeName, String nodeAddress, String datacenter, Supplier<String> leader,
      Supplier<List<String>> peers, io.lodestar.server.auth.Authorizer authorizer) {
    ConsulNode node = new ConsulNode(nodeName, nodeAddress, datacenter);
    ConsulDirectory directory = new ConsulDirectory(state.registry(), notifier);
    state.registry().addListener(directory);
    this.gate = new ConsulGate(commandLog, authorizer);
    this.agent = new ConsulAgentService(state.registry(), commandLog, health, directory, node, meters);
    this.catalog = new ConsulCatalogService(directory, node, leader, peers);
    this.kv = new ConsulKvService(state.kv(), commandLog, notifier);
  }

  /** Serves the Consul routes on a server: the client port (beside Lodestar's own; paths do not collide) or the Consul port. */
  public void mount(ServerBuilder sb) {
    for (Routes.Owner service : List.of(agent, catalog, kv)) {
      Routes.on(sb, service).decorator(gate).exceptionHandler(errors).maxRequestLength(MAX_REQUEST_BYTES).install();
    }
  }
}
