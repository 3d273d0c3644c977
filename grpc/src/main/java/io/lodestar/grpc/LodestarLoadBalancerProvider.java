package io.lodestar.grpc;

import io.grpc.LoadBalancer;
import io.grpc.LoadBalancerProvider;
import io.grpc.NameResolver;
import java.util.Map;

/**
 * The {@code lodestar_governance} policy, registered through {@code META-INF/services}. The
 * {@code lodestar:} resolver selects it in the service config it returns. (grpc-java still marks
 * this provider API {@code @ExperimentalApi}; grpc is pinned by the build.)
 */
public final class LodestarLoadBalancerProvider extends LoadBalancerProvider {
  public static final String POLICY = "lodestar_governance";

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public int getPriority() {
    return 5;
  }

  @Override
  public String getPolicyName() {
    return POLICY;
  }

  @Override
  public LoadBalancer newLoadBalancer(LoadBalancer.Helper helper) {
    return new GovernanceLoadBalancer(helper);
  }

  @Override
  public NameResolver.ConfigOrError parseLoadBalancingPolicyConfig(Map<String, ?> rawConfig) {
    return NameResolver.ConfigOrError.fromConfig(POLICY);  // no options: the rules live on the server
  }
}
