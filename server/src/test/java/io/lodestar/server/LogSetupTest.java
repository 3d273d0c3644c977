package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import io.lodestar.server.http.BadConnectionLog;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * The node's logging set up in code: what logback.xml said. (Tests run with their logback-test.xml,
 * so the set-up is checked on a context of its own, from a class loader that cannot see that file.)
 */
class LogSetupTest {
  @Test
  void setsUpWhatTheNodeLogsAndDefersToAnXmlFileOnTheClassPath() throws Exception {
    LoggerContext context = new LoggerContext();
    LogSetup setup = new LogSetup();
    setup.setContext(context);
    // the test class path has logback-test.xml: a test's own configuration wins
    assertThat(setup.configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getTurboFilterList()).isEmpty();

    URL classes = LogSetup.class.getProtectionDomain().getCodeSource().getLocation();
    ClassLoader parent = LogSetup.class.getClassLoader();
    try (URLClassLoader alone = new URLClassLoader(new URL[] {classes}, parent) {
      @Override
      public URL getResource(String name) {
        return name.startsWith("logback") ? null : super.getResource(name);
      }

      @Override
      protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.equals(LogSetup.class.getName())) {
          return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
          Class<?> c = findLoadedClass(name);
          return c != null ? c : findClass(name);
        }
      }
    }) {
      Configurator own = (Configurator) alone.loadClass(LogSetup.class.getName()).getConstructor().newInstance();
      own.setContext(context);
      assertThat(own.configure(context)).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    }
    assertThat(context.getTurboFilterList()).singleElement().isInstanceOf(BadConnectionLog.class);
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    assertThat(root.getAppender("STDOUT")).isInstanceOf(ConsoleAppender.class);
    assertThat(root.getAppender("STDOUT").isStarted()).isTrue();
    assertThat(context.getLogger("io.lodestar.server.LodestarServer").getEffectiveLevel()).isEqualTo(Level.INFO);
    assertThat(context.getLogger("org.apache.ratis.client.impl.OrderedAsync").getEffectiveLevel()).isEqualTo(Level.OFF);
    assertThat(context.getLogger("com.linecorp.armeria.server.Server").getEffectiveLevel()).isEqualTo(Level.WARN);
  }
}
