package io.lodestar.bench.compare;

import java.util.Map;

/** An instance as every peer stores it: service, unique id, address and metadata. */
record Inst(String service, String id, String host, int port, Map<String, String> metadata) {}
