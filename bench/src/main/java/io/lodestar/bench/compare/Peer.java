package io.lodestar.bench.compare;

import java.nio.file.Path;

/**
 * One system under comparison: a server process this tool starts on loopback (so its CPU, RSS
 * and, for a JVM, live heap can be read from outside), and clients that drive it the way its own
 * users' applications would.
 */
interface Peer extends AutoCloseable {
  /** Display name in the report: "etcd", "ZooKeeper", "Eureka", "Lodestar". */
  String name();

  /** Exact server and client versions, for the report. */
  String version();

  /** The settings that matter to the numbers (fsync, heap, caches, intervals), one line. */
  String settings();

  /**
   * Starts the server in {@code workDir} (a fresh, empty directory this peer owns) and returns once
   * it answers requests. {@code heap} is the -Xmx every JVM peer gets, e.g. "1g".
   */
  void start(Path workDir, String heap) throws Exception;

  /** The server's process id (for /proc and jcmd). */
  long pid();

  /** True when the server is a JVM whose live heap can be measured with jcmd. */
  boolean jvm();

  /**
   * The start to report, given the wall time of {@link #start}: that time itself, unless the peer
   * timed a part of it apart (a preparatory first start).
   */
  default double measuredStartSeconds(double wallSeconds) {
    return wallSeconds;
  }

  /** Anything about its start the report should say (e.g. a first start measured apart), or null. */
  default String startNote() {
    return null;
  }

  /** Whether this peer also holds the plan's scale tiers (Lodestar's one-node ceiling). */
  default boolean holdsScaleTiers() {
    return false;
  }

  /**
   * A new client, as one application process holds one: its own connection, session or lease.
   * Instances it registers stay alive (heartbeats, lease keep-alives, session pings) until it
   * deregisters them or is closed.
   */
  PeerClient client() throws Exception;

  /** Stops the server and its clients' helpers; the work directory is deleted by the caller. */
  @Override
  void close() throws Exception;
}
