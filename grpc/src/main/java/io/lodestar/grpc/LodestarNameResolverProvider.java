package io.lodestar.grpc;

import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.List;

/**
 * The {@code lodestar} scheme, registered through {@code META-INF/services}: a channel built with
 * {@code ManagedChannelBuilder.forTarget("lodestar:///greeter")} resolves through Lodestar.
 * (grpc-java still marks this provider API {@code @ExperimentalApi}; grpc is pinned by the build.)
 */
public final class LodestarNameResolverProvider extends NameResolverProvider {
  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    LodestarTarget target = LodestarTarget.parse(targetUri);
    return target == null ? null : new LodestarNameResolver(target, target.service(), args);
  }

  @Override
  public String getDefaultScheme() {
    return LodestarTarget.SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    // below DNS (5): the highest priority names the default scheme of targets written without one
    return 4;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }
}
