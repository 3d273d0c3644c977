package io.lodestar.cli;

import java.util.concurrent.TimeUnit;

/**
 * Heartbeats one ephemeral instance until the thread is interrupted (Ctrl-C interrupts it through
 * a shutdown hook), then deregisters it. Prints nothing per beat; only trouble and recovery go to
 * stderr. An instance the server no longer knows (it expired, e.g. after a long pause) is
 * registered again under the same id.
 *
 * <p>Ctrl-C starts the JVM's shutdown, whose exit status is 130 and in which {@code System.exit}
 * blocks for good. So the hook does not wait for this thread to return (it would return into
 * {@code System.exit}); it waits for the deregistration to finish and then ends the JVM itself
 * with the deregistration's status: 0 when the instance is gone.
 */
final class Keepalive {
  private final RegisterCommand cmd;
  private final String id;
  private final long intervalMillis;

  Keepalive(RegisterCommand cmd, String id, int intervalSeconds) {
    this.cmd = cmd;
    this.id = id;
    this.intervalMillis = TimeUnit.SECONDS.toMillis(intervalSeconds);
  }

  int run() {
    LodestarApi api = cmd.api();
    String where = cmd.namespace() + "/" + cmd.service;
    Thread worker = Thread.currentThread();
    java.util.concurrent.CountDownLatch deregistered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger status = new java.util.concurrent.atomic.AtomicInteger();
    Thread hook = new Thread(() -> {
      worker.interrupt();
      try {
        // bounded by the request timeout of the deregistration; a JVM going down never waits longer
        if (deregistered.await(cmd.main().timeoutSeconds + 5L, TimeUnit.SECONDS)) {
          Runtime.getRuntime().halt(status.get());
        }
      } catch (InterruptedException ignored) {
        // JVM is going down anyway
      }
    }, "lodestar-keepalive-shutdown");
    boolean hooked = addHook(hook);
    cmd.err().println("keeping " + id + " alive in " + where + " (heartbeat every " + intervalMillis / 1000
        + "s); press Ctrl-C to deregister it");
    cmd.err().flush();
    String trouble = null;
    try {
      while (!Thread.currentThread().isInterrupted()) {
        Thread.sleep(intervalMillis);
        try {
          api.put(cmd.servicePath(cmd.service, "instances", id, "heartbeat"), null);
          if (trouble != null) {
            cmd.err().println("heartbeats to " + api.server() + " are getting through again");
            trouble = null;
          }
        } catch (CliException.ServerError e) {
          if (e.status == 404) {
            cmd.err().println(id + " is no longer registered (it expired?); registering it again");
            try {
              api.post(cmd.servicePath(cmd.service, "instances"), cmd.body(id));
              trouble = null;
            } catch (CliException again) {
              trouble = again.getMessage();
              cmd.err().println("registering " + id + " again failed: " + trouble + "; retrying");
            }
          } else if (!e.getMessage().equals(trouble)) {
            trouble = e.getMessage();
            cmd.err().println("heartbeat refused: " + trouble + "; retrying");
          }
        } catch (CliException e) {
          if (!e.getMessage().equals(trouble)) {
            trouble = e.getMessage();
            cmd.err().println("heartbeat failed: " + trouble + "; retrying");
          }
        }
        cmd.err().flush();
      }
    } catch (InterruptedException e) {
      // Ctrl-C (or the caller's interrupt): deregister below
    } finally {
      if (hooked) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is what interrupted us
        }
      }
    }
    Thread.interrupted();  // clear, so that the deregistration can run
    int code = deregister(api, where);
    status.set(code);
    deregistered.countDown();
    return code;
  }

  private int deregister(LodestarApi api, String where) {
    try {
      api.delete(cmd.servicePath(cmd.service, "instances", id));
      cmd.err().println("deregistered " + id + " from " + where);
      return 0;
    } catch (CliException.ServerError e) {
      if (e.status == 404) {
        cmd.err().println(id + " was already gone from " + where);
        return 0;
      }
      cmd.err().println("lodestar: could not deregister " + id + ": " + e.getMessage());
      return e.exitCode();
    } catch (CliException e) {
      cmd.err().println("lodestar: could not deregister " + id + ": " + e.getMessage());
      return e.exitCode();
    } catch (InterruptedException e) {
      cmd.err().println("lodestar: interrupted while deregistering " + id);
      return Main.INTERRUPTED;
    } finally {
      cmd.err().flush();
    }
  }

  private static boolean addHook(Thread hook) {
    try {
      Runtime.getRuntime().addShutdownHook(hook);
      return true;
    } catch (IllegalStateException shuttingDown) {
      return false;
    }
  }
}
