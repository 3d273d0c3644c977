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

  public AdsService(XdsHub hub) {
    this.hub = hub;
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
    if (hub.isClosed()) {
      // stopping: the node retries elsewhere (or here, after the restart) rather than wait
      responses.onError(io.grpc.Status.UNAVAILABLE.withDescription("server stopping").asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(DiscoveryRequest request) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    AdsStream stream = new AdsStream(responses, hub.source());
    hub.open(stream);
    return new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryRequest request) {
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
