package io.lodestar.server.auth;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * The gRPC door (the SDK stream and ADS): with auth on, a call without a valid token (call
 * credentials, i.e. {@code authorization: Bearer} metadata) is closed with UNAUTHENTICATED before
 * it reaches a service. The {@link AuthDecorator} in front has already found the principal (an
 * unknown token never gets here); what each message may do is checked by the service.
 */
public final class GrpcAuth implements ServerInterceptor {
  private final Authorizer authorizer;

  public GrpcAuth(Authorizer authorizer) {
    this.authorizer = authorizer;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (authorizer.enabled() && !Authorizer.current().token()) {
      call.close(Status.UNAUTHENTICATED.withDescription("a token is required: send it as call credentials "
          + "(authorization: Bearer <token>)"), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return next.startCall(call, headers);
  }
}
