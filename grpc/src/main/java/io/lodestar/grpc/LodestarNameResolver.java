package io.lodestar.grpc;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.lodestar.client.Instance;
import io.lodestar.client.ServiceEvent;
import io.lodestar.client.ServiceListener;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Resolves {@code lodestar://[server]/[namespace/]service} to the service's healthy instances.
 * The list comes from the SDK's subscription: every change is pushed by the server and handed to
 * the channel at once; nothing polls, and {@link #refresh()} has nothing to do. Each address group
 * carries its instance id, and the result carries the {@link GovernedService} plus a service
 * config selecting the {@code lodestar_governance} balancer, so routing rules, breakers and the
 * adaptive balancer apply without the application configuring anything.
 *
 * <p>Threads: SDK events arrive on the client's listener thread and are handed to the channel
 * through its synchronization context, which serializes them with the channel's own callbacks.
 */
final class LodestarNameResolver extends NameResolver {
  static final Map<String, ?> SERVICE_CONFIG =
      Map.of("loadBalancingConfig", List.of(Map.of(LodestarLoadBalancerProvider.POLICY, Map.of())));

  private final LodestarTarget target;
  private final String authority;
  private final SynchronizationContext sync;
  private final ServiceConfigParser configParser;
  private SharedClients.Shared shared;
  private ServiceListener subscription;
  private Listener2 listener;

  LodestarNameResolver(LodestarTarget target, String authority, Args args) {
    this.target = target;
    this.authority = authority;
    this.sync = args.getSynchronizationContext();
    this.configParser = args.getServiceConfigParser();
  }

  @Override
  public String getServiceAuthority() {
    return authority;
  }

  @Override
  public void start(Listener2 listener) {
    this.listener = listener;
    shared = SharedClients.acquire(target.servers());
    GovernedService governed = new GovernedService(shared.governor, target.namespace(), target.service());
    // addresses are built (and host names looked up) on the SDK's listener thread, not in the channel's
    subscription = event -> {
      List<EquivalentAddressGroup> groups = addresses(event);
      sync.execute(() -> publish(groups, governed));
    };
    shared.client.subscribe(target.namespace(), target.service(), subscription);
  }

  private static List<EquivalentAddressGroup> addresses(ServiceEvent event) {
    List<EquivalentAddressGroup> groups = new ArrayList<>();
    for (Instance i : event.snapshot().healthyInstances()) {
      Attributes attrs = Attributes.newBuilder().set(GovernedService.INSTANCE_ID, i.id()).build();
      groups.add(new EquivalentAddressGroup(new InetSocketAddress(i.host(), i.port()), attrs));
    }
    return groups;
  }

  private void publish(List<EquivalentAddressGroup> groups, GovernedService governed) {
    if (listener == null) {
      return;  // shut down meanwhile
    }
    if (groups.isEmpty()) {
      listener.onError(Status.UNAVAILABLE.withDescription("no healthy instance of " + target.namespace() + "/"
          + target.service()));
      return;
    }
    listener.onResult2(ResolutionResult.newBuilder()
        .setAddressesOrError(io.grpc.StatusOr.fromValue(groups))
        .setAttributes(Attributes.newBuilder().set(GovernedService.KEY, governed).build())
        .setServiceConfig(configParser.parseServiceConfig(SERVICE_CONFIG))
        .build());
  }

  @Override
  public void refresh() {
    // pushed, not polled: the subscription already holds the latest list
  }

  @Override
  public void shutdown() {
    listener = null;
    if (shared != null) {
      shared.client.unsubscribe(target.namespace(), target.service(), subscription);
      SharedClients.release(shared);
      shared = null;
    }
  }
}
