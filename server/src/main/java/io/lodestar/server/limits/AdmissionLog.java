package io.lodestar.server.limits;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.core.LodestarException;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.storage.CommandLog;
import io.lodestar.server.storage.ForwardingCommandLog;
import java.util.concurrent.CompletableFuture;

/**
 * The node's command log behind the count limits of {@link ServerLimits}: a write that would add
 * an instance to a full service, or a service to a full namespace, is refused before it is
 * logged, whichever surface sent it (REST, the SDK stream, the Consul API). It is checked against
 * this node's state when the write arrives, not in the state machine: the limits are a node's
 * setting, and the replicated apply must not depend on one. So concurrent writes may pass a limit
 * by the few in flight; it bounds growth, it is not an exact quota.
 */
public final class AdmissionLog extends ForwardingCommandLog {
  private final Registry registry;
  private final ServerLimits limits;

  public AdmissionLog(CommandLog log, Registry registry, ServerLimits limits) {
    super(log);
    this.registry = registry;
    this.limits = limits;
  }

  @Override
  public CompletableFuture<CommandResult> submit(Command command) {
    try {
      admit(command);
    } catch (LodestarException e) {
      return CompletableFuture.failedFuture(e);
    }
    return log.submit(command);
  }

  void admit(Command c) {
    switch (c.getKindCase()) {
      case REGISTER_INSTANCE -> {
        var i = c.getRegisterInstance().getInstance();
        ServiceView view = registry.view(i.getNamespace(), i.getService());
        if (view == null) {
          newService(i.getNamespace(), i.getService());
        } else if (view.instances().size() >= limits.maxInstancesPerService()
            && view.stored().stream().noneMatch(x -> x.idEquals(i.getId()))) {
          throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "service " + i.getNamespace() + "/"
              + i.getService() + " already holds " + view.instances().size() + " instances, the limit of this server "
              + "(--max-instances-per-service " + limits.maxInstancesPerService() + ")", "max-instances-per-service");
        }
      }
      case PUT_SERVICE -> {
        var s = c.getPutService();
        if (registry.view(s.getNamespace(), s.getName()) == null) {
          newService(s.getNamespace(), s.getName());
        }
      }
      default -> { }
    }
  }

  private void newService(String namespace, String service) {
    if (registry.namespace(namespace) == null) {
      return;  // the state machine answers for a namespace that does not exist
    }
    int services = registry.serviceCount(namespace);
    if (services >= limits.maxServicesPerNamespace()) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "namespace " + namespace
          + " already holds " + services + " services, the limit of this server (--max-services-per-namespace "
          + limits.maxServicesPerNamespace() + "); " + service + " was not created", "max-services-per-namespace");
    }
  }

}
