package io.lodestar.server.xds;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.StreamObserver;

/**
 * The Aggregated Discovery Service (state of the world) on the client port. Each stream's
 * requests go to the {@link XdsHub}'s thread in arrival order; delta xDS is not offered
 * (UNIMPLEMENTED), and clients fall back to state of the world.
 */
public final class AdsService extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
  private final XdsHub hub;
  private final io.lodestar.server.auth.Authorizer authorizer;
  private final io.lodestar.server.auth.Revocations revocations;

  private final io.lodestar.server.limits.PerAddressCounter streams;

  /**
   * @param streams open streams per client address, shared with the SDK's stream: an ADS stream
   *     takes a slot of {@code --max-streams-per-address} like an SDK stream does
   */
  public AdsService(XdsHub hub, io.lodestar.server.auth.Authorizer authorizer,
      io.lodestar.server.auth.Revocations revocations, io.lodestar.server.limits.PerAddressCounter streams) {
    this.streams = streams;
    this.hub = hub;
    this.authorizer = authorizer;
    this.revocations = revocations;
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
    com.linecorp.armeria.server.ServiceRequestContext ctx = com.linecorp.armeria.server.ServiceRequestContext.currentOrNull();
    String address = ctx == null ? null : ctx.clientAddress().getHostAddress();
    io.grpc.Status refused = null;
    if (hub.isClosed()) {
      // stopping: the node retries elsewhere (or here, after the restart) rather than wait
      refused = io.grpc.Status.UNAVAILABLE.withDescription("server stopping");
    } else if (address != null && !streams.tryAcquire(address)) {
      refused = io.grpc.Status.RESOURCE_EXHAUSTED.withDescription("too many open streams from " + address
          + ": the limit of this server is " + streams.max() + " (--max-streams-per-address)");
    }
    if (refused != null) {
      return io.lodestar.server.limits.RefusedStream.refuse(responses, refused);
    }
    if (address != null) {
      // the slot is given back when the call ends, however it ends (client, revocation, refusal, shutdown)
      ctx.log().whenComplete().thenRun(() -> streams.release(address));
    }
    AdsStream stream = new AdsStream(responses, hub.source());
    hub.open(stream);
    // the stream's token (call credentials); the node's namespace is known from its first request
    io.lodestar.server.auth.Principal principal = io.lodestar.server.auth.Authorizer.current();
    if (ctx != null && principal.token()) {
      // revoking the token ends the stream at once, saying why
      revocations.track(principal.name(), ctx, () -> hub.remove(stream, () -> responses.onError(
          io.grpc.Status.UNAUTHENTICATED.withDescription("token '" + principal.name() + "' was revoked").asRuntimeException())));
    }
    return new StreamObserver<>() {
      private boolean allowed; // the stream's event loop only

      @Override
      public void onNext(DiscoveryRequest request) {
        if (!allowed) {
          String ns = XdsNode.of(request.getNode()).namespace();
          if (!authorizer.allows(principal, io.lodestar.core.auth.Policy.Action.READ, ns)) {
            String needed = io.lodestar.server.auth.Authorizer.permission(io.lodestar.core.auth.Policy.Action.READ, ns);
            hub.remove(stream, () -> responses.onError(io.grpc.Status.PERMISSION_DENIED
                .withDescription("token '" + principal.name() + "' lacks permission " + needed).asRuntimeException()));
            return;
          }
          allowed = true;
        }
        hub.request(stream, request);
      }

      @Override
      public void onError(Throwable t) {
        hub.remove(stream, () -> {});
      }

      @Override
      public void onCompleted() {
        hub.remove(stream, responses::onCompleted);
      }
    };
  }
}
