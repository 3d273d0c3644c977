package io.lodestar.bench.compare;

import java.util.Map;

/** An instance as every peer stores it: service, unique id, address and metadata. */
record Inst(String service, String id, String host, int port, Map<String, String> metadata) {
  /** The value an application stores for itself in etcd or ZooKeeper: address and metadata, as JSON. */
  String json() {
    StringBuilder out = new StringBuilder("{\"host\":").append(EurekaJson.quote(host)).append(",\"port\":")
        .append(port).append(",\"metadata\":{");
    String separator = "";
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      out.append(separator).append(EurekaJson.quote(e.getKey())).append(':').append(EurekaJson.quote(e.getValue()));
      separator = ",";
    }
    return out.append("}}").toString();
  }
}
