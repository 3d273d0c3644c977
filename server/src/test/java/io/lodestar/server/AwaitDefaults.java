package io.lodestar.server;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Bounds every Awaitility wait in this module's test JVMs that names no bound of its own by 60 s
 * instead of Awaitility's 10 s: on a loaded machine, or with test JVMs side by side
 * (lodestar.test.forks), a server start or a few hundred writes can take longer than 10 s. A
 * wait still returns as soon as its condition holds. Registered in META-INF/services, so it runs
 * before any test.
 */
public final class AwaitDefaults implements LauncherSessionListener {
  @Override
  public void launcherSessionOpened(LauncherSession session) {
    Awaitility.setDefaultTimeout(Duration.ofSeconds(60));
  }
}
