package io.lodestar.server.limits;

/**
 * How much one namespace, service or client address may take from a node, so that a misbehaving
 * client (a registration loop with fresh ids, a service name per request, a stream leak) meets a
 * clear error instead of exhausting memory. Request body and header sizes are fixed on the
 * Armeria server (docs/security.md, "Limits").
 *
 * @param maxInstancesPerService instances one service may hold (re-registering one it has is always fine)
 * @param maxServicesPerNamespace services one namespace may hold
 * @param maxStreamsPerAddress open SDK streams from one client IP address
 */
public record ServerLimits(int maxInstancesPerService, int maxServicesPerNamespace, int maxStreamsPerAddress) {
  public static final ServerLimits DEFAULT = new ServerLimits(100_000, 10_000, 1_000);

  public ServerLimits {
    positive("max-instances-per-service", maxInstancesPerService);
    positive("max-services-per-namespace", maxServicesPerNamespace);
    positive("max-streams-per-address", maxStreamsPerAddress);
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException("--" + name + " must be at least 1, got " + value);
    }
  }
}
