package io.lodestar.client.internal;

import java.text.MessageFormat;
import java.util.ResourceBundle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link System.Logger} that writes to SLF4J, so the SDK's call sites stay the same whichever
 * way a line goes. Messages keep {@code System.Logger}'s {@link MessageFormat} placeholders
 * ({0}, {1}), formatted here only when SLF4J would print the line. Loaded only when SLF4J is there
 * ({@link Logs}).
 */
final class Slf4jSystemLogger implements System.Logger {
  private final Logger log;

  Slf4jSystemLogger(String name) {
    this.log = LoggerFactory.getLogger(name);
  }

  @Override
  public String getName() {
    return log.getName();
  }

  @Override
  public boolean isLoggable(Level level) {
    return switch (level) {
      case ALL, TRACE -> log.isTraceEnabled();
      case DEBUG -> log.isDebugEnabled();
      case INFO -> log.isInfoEnabled();
      case WARNING -> log.isWarnEnabled();
      case ERROR -> log.isErrorEnabled();
      case OFF -> false;
    };
  }

  @Override
  public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
    if (isLoggable(level)) {
      write(level, msg, thrown);
    }
  }

  @Override
  public void log(Level level, ResourceBundle bundle, String format, Object... params) {
    if (isLoggable(level)) {
      write(level, params == null || params.length == 0 ? format : MessageFormat.format(format, params), null);
    }
  }

  private void write(Level level, String msg, Throwable thrown) {
    switch (level) {
      case ALL, TRACE -> log.trace(msg, thrown);
      case DEBUG -> log.debug(msg, thrown);
      case INFO -> log.info(msg, thrown);
      case WARNING -> log.warn(msg, thrown);
      case ERROR -> log.error(msg, thrown);
      case OFF -> { }
    }
  }
}
