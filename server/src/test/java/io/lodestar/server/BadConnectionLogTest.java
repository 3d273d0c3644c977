package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Garbage HTTP/2 connections: one short line each, rate-limited; never a stack trace. */
class BadConnectionLogTest {
  @TempDir Path dir;

  @Test
  void garbageConnectionsLogOneLineEachWithinTheRate() throws Exception {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.setContext(ctx);
    events.start();
    root.addAppender(events);
    try (LodestarServer server = LodestarServer.builder().port(0).dataDir(dir).build().start()) {
      int connections = 20;
      long t0 = System.nanoTime();
      for (int i = 0; i < connections; i++) {
        garbage(server.port());
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> snapshot(events).stream()
          .anyMatch(e -> e.getFormattedMessage().startsWith("Bad connection")));
      List<ILoggingEvent> seen = snapshot(events);
      assertThat(seen).noneMatch(e -> e.getThrowableProxy() != null);
      List<ILoggingEvent> bad = seen.stream().filter(e -> e.getFormattedMessage().startsWith("Bad connection")).toList();
      assertThat(bad).allMatch(e -> e.getFormattedMessage().contains("from 127.0.0.1:")
          && !e.getFormattedMessage().contains("\n"));
      // At most 5 lines per 10 s window: the rest are counted, not printed.
      long windows = 2 + (System.nanoTime() - t0) / 10_000_000_000L;
      assertThat(bad.size()).isLessThanOrEqualTo((int) Math.min(connections, 5 * windows));
      if (windows == 2) {
        assertThat(bad.size()).isLessThan(connections);
      }
    } finally {
      root.detachAppender(events);
    }
  }

  private static List<ILoggingEvent> snapshot(ListAppender<ILoggingEvent> events) {
    synchronized (events) {
      return List.copyOf(events.list);
    }
  }

  /** An HTTP/2 preface followed by a frame that is not SETTINGS; waits for the server to hang up. */
  private static void garbage(int port) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 4, 8, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      out.flush();
      InputStream in = s.getInputStream();
      while (in.read() >= 0) {
        // drain until the server closes the connection
      }
    }
  }
}
