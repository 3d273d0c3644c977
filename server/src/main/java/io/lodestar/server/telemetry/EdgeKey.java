package io.lodestar.server.telemetry;

/** One edge of the call graph as the statistics key it: who called which instance, by which method. */
record EdgeKey(String callerNamespace, String caller, String namespace, String service, String instanceId,
    String method) {}
