package io.lodestar.grpc;

import io.grpc.Server;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import java.util.Map;
import java.util.Objects;

/**
 * Registers a started grpc-java server's port as an ephemeral instance of a service, and removes it
 * again at shutdown:
 *
 * <pre>{@code
 * Server server = ServerBuilder.forPort(9090).addService(new GreeterImpl()).build().start();
 * GrpcServerRegistration reg = GrpcServerRegistration.register(client, server, "greeter", "10.0.0.7",
 *     Map.of("version", "v2"));
 * ...
 * reg.close();            // deregister first, so callers move away, then
 * server.shutdown();      // stop serving
 * }</pre>
 *
 * The instance lives on the SDK client's stream (heartbeats, re-registration after a reconnect).
 * A JVM shutdown hook deregisters it if the application never called {@link #close()}.
 */
public final class GrpcServerRegistration implements AutoCloseable {
  private final LodestarClient client;
  private final Instance instance;
  private final Thread hook;
  private boolean closed;

  private GrpcServerRegistration(LodestarClient client, Instance instance) {
    this.client = client;
    this.instance = instance;
    this.hook = new Thread(this::deregister, "lodestar-grpc-deregister");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Registers {@code server}'s port in the default namespace under {@code service}. */
  public static GrpcServerRegistration register(LodestarClient client, Server server, String service, String host,
      Map<String, String> metadata) {
    return register(client, server, RegistrationSpec.builder().service(service).host(host).metadata(metadata));
  }

  /** Registers {@code server}'s port with everything else taken from {@code spec} (namespace, weight, ...). */
  public static GrpcServerRegistration register(LodestarClient client, Server server, RegistrationSpec.Builder spec) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(server, "server");
    int port = server.getPort();
    if (port <= 0) {
      throw new IllegalArgumentException("server: not started, or not listening on an IP port");
    }
    Instance stored = client.register(spec.port(port).protocol("grpc").build());
    return new GrpcServerRegistration(client, stored);
  }

  /** The instance as the server stored it (its id is {@code host:port} unless the spec set one). */
  public Instance instance() {
    return instance;
  }

  private synchronized void deregister() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      client.deregister(instance.namespace(), instance.service(), instance.id());
    } catch (RuntimeException e) {
      // closing anyway: an ephemeral instance whose stream ends expires on its own
      System.getLogger(GrpcServerRegistration.class.getName()).log(System.Logger.Level.WARNING,
          "could not deregister " + instance.id() + ": " + e.getMessage());
    }
  }

  /** Deregisters the instance (once); callers stop choosing it as soon as the change reaches them. */
  @Override
  public void close() {
    deregister();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or has run
    }
  }
}
