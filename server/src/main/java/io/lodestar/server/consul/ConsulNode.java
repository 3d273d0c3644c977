package io.lodestar.server.consul;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The one Consul "node" a Lodestar server presents: Consul ties services to the agent of the host
 * they run on; here every service is held by the server, so the server is the agent and the node.
 */
record ConsulNode(String name, String address, String datacenter) {
  /** A stable UUID-shaped id derived from the name, as Consul's node ids are UUIDs. */
  String id() {
    return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
