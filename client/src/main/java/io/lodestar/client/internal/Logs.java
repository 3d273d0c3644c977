package io.lodestar.client.internal;

/**
 * Where the SDK's log lines go: SLF4J when the application has it (slf4j-api on the class path),
 * else {@link System.Logger} (JUL unless the JVM is told otherwise). Applications that log through
 * SLF4J get the SDK's lines in their own appenders without configuring anything; the SDK does not
 * depend on SLF4J. Chosen once, when the SDK's first logger is made.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public final class Logs {
  private static final boolean SLF4J = present("org.slf4j.LoggerFactory");

  private Logs() {}

  /** The SDK's logger of this name. */
  public static System.Logger get(String name) {
    return SLF4J ? new Slf4jSystemLogger(name) : System.getLogger(name);
  }

  /** True when the SDK's lines go to SLF4J. */
  public static boolean viaSlf4j() {
    return SLF4J;
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, Logs.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
