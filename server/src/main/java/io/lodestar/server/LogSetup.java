package io.lodestar.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import io.lodestar.server.http.BadConnectionLog;

/**
 * The node's logging, set up in code (Logback finds this class through its service loader) rather
 * than from a logback.xml: reading XML loads an XML parser and Logback's configuration model, some
 * 400 classes, on every start. One line per event on standard output; Lodestar at INFO, the rest at
 * WARN; {@link BadConnectionLog} condenses bad connections. A {@code -Dlogback.configurationFile},
 * a {@code logback-test.xml} (tests) or a {@code logback.xml} of an application that embeds the
 * server still wins.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    ClassLoader cl = LogSetup.class.getClassLoader();
    if (System.getProperty("logback.configurationFile") != null || cl.getResource("logback-test.xml") != null
        || cl.getResource("logback.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    BadConnectionLog badConnections = new BadConnectionLog();
    badConnections.setContext(context);
    badConnections.start();
    context.addTurboFilter(badConnections);
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
    stdout.setContext(context);
    stdout.setName("STDOUT");
    stdout.setEncoder(encoder);
    stdout.start();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stdout);
    context.getLogger("io.lodestar").setLevel(Level.INFO);
    // the Raft client logs every retry during an election at ERROR; RaftLog reports what finally failed
    context.getLogger("org.apache.ratis.client.impl.OrderedAsync").setLevel(Level.OFF);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
