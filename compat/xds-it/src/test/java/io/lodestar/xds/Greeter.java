package io.lodestar.xds;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real grpc-java greeter: one unary method that answers with the backend's name, so a test
 * sees which backend served each call. Strings on the wire (no generated code needed).
 */
final class Greeter implements AutoCloseable {
  static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
  static final MethodDescriptor<String, String> SAY_HELLO = MethodDescriptor.<String, String>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("greeter.Greeter/SayHello")
      .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();

  final String name;
  private final Server server;

  Greeter(String name) throws IOException {
    this.name = name;
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerServiceDefinition.builder("greeter.Greeter")
            .addMethod(SAY_HELLO, ServerCalls.asyncUnaryCall((req, out) -> {
              out.onNext(name);
              out.onCompleted();
            }))
            .build())
        .build().start();
  }

  int port() {
    return server.getPort();
  }

  /** One call; answers the name of the backend that served it. */
  static String call(Channel channel, Map<String, String> headers) {
    Channel c = channel;
    if (!headers.isEmpty()) {
      Metadata md = new Metadata();
      headers.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
      c = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
    }
    return ClientCalls.blockingUnaryCall(c, SAY_HELLO,
        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "hello");
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
