package io.lodestar.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/**
 * The client's API token as gRPC call credentials: {@code authorization: Bearer <token>} on the
 * stream. Heartbeats, registrations and subscriptions all ride that one stream, and every
 * reconnect opens a new one with the same credentials, so no message goes without the token
 * (heartbeats that drop it are a known pain of other registries).
 */
final class TokenCredentials extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Metadata headers = new Metadata();

  TokenCredentials(String token) {
    headers.put(AUTHORIZATION, "Bearer " + token);
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
    Metadata m = new Metadata();
    m.merge(headers);
    applier.apply(m);
  }
}
