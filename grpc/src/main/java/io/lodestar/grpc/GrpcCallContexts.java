package io.lodestar.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.lodestar.client.route.CallContext;

/**
 * The route context of a gRPC call: method {@code /package.Service/Method} and the call's ASCII
 * metadata as headers, so route, rate-limit and hash rules can match on them ({@code x-canary},
 * {@code x-user-id}, ...). Binary ({@code -bin}) metadata is left out.
 */
final class GrpcCallContexts {
  private GrpcCallContexts() {}

  static CallContext of(MethodDescriptor<?, ?> method, Metadata headers) {
    CallContext.Builder b = CallContext.builder().method("/" + method.getFullMethodName());
    if (headers != null) {
      for (String key : headers.keys()) {
        if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
          continue;
        }
        String value = headers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        if (value != null) {
          b.header(key, value);
        }
      }
    }
    return b.build();
  }
}
