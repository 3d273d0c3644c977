package io.lodestar.grpc;

import io.grpc.Attributes;
import io.lodestar.client.governance.Governor;

/**
 * What the resolver hands the balancer with each address list: the governor to choose with and
 * the service it governs. Carried as a resolution attribute, so a balancer needs no global lookup.
 */
record GovernedService(Governor governor, String namespace, String service) {
  static final Attributes.Key<GovernedService> KEY = Attributes.Key.create("lodestar.governed-service");
  /** On each address group: the Lodestar instance id it stands for. */
  static final Attributes.Key<String> INSTANCE_ID = Attributes.Key.create("lodestar.instance-id");
}
