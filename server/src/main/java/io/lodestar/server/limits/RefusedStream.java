package io.lodestar.server.limits;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * A bidirectional gRPC stream refused as it opens (the server stopping, too many streams from one
 * address): the client is told why at once, and whatever it still sends is dropped, as nothing
 * was opened for it.
 */
public final class RefusedStream {
  private RefusedStream() {}

  /** Ends {@code responses} with {@code why}; returns the request observer to hand back to gRPC. */
  public static <T> StreamObserver<T> refuse(StreamObserver<?> responses, Status why) {
    responses.onError(why.asRuntimeException());
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
