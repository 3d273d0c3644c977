package io.lodestar.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The server side of lanes (full-link gray release, docs/grpc.md): an inbound call's
 * {@code x-lodestar-lane} goes into the gRPC {@link Context} its handler runs in, so every call the
 * handler makes on a channel with {@link LodestarClientInterceptor} carries the same lane on.
 *
 * <pre>{@code
 * Server server = ServerBuilder.forPort(port).addService(ServerInterceptors.intercept(impl,
 *     new LodestarServerInterceptor())).build();
 * }</pre>
 */
public final class LodestarServerInterceptor implements ServerInterceptor {
  /** The lane of the call being served, or null. */
  public static final Context.Key<String> LANE = Context.key("lodestar.lane");
  static final Metadata.Key<String> LANE_HEADER =
      Metadata.Key.of(io.lodestar.client.governance.Governor.LANE_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String lane = headers.get(LANE_HEADER);
    if (lane == null || lane.isEmpty()) {
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(LANE, lane), call, headers, next);
  }
}
