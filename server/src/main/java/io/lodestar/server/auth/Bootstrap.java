package io.lodestar.server.auth;

import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateToken;
import io.lodestar.core.LodestarException;
import io.lodestar.core.auth.TokenStore;
import io.lodestar.server.storage.CommandLog;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first admin token of a node started with --auth. Made once per cluster (the
 * {@code bootstrap} command is refused once any token exists, so of several nodes starting at
 * once one wins), printed once on standard output — never logged, since logs are shipped and
 * kept — and written to {@code <data-dir>/bootstrap-token}, created with mode 600 so that no
 * other user can read it even for an instant.
 */
public final class Bootstrap {
  private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);
  public static final String FILE = "bootstrap-token";
  public static final String NAME = "bootstrap";

  private Bootstrap() {}

  /** Tries for this long while the log cannot take writes yet (a cluster still electing its leader). */
  static final int ATTEMPTS = 120;

  /** Completes once the token exists (made here or before); never fails the start. */
  public static CompletableFuture<Void> ensure(TokenStore tokens, CommandLog commands, Path dataDir, PrintStream out) {
    return attempt(tokens, commands, dataDir, out, ATTEMPTS);
  }

  private static CompletableFuture<Void> attempt(TokenStore tokens, CommandLog commands, Path dataDir, PrintStream out,
      int left) {
    if (tokens.bootstrapped()) {
      return CompletableFuture.completedFuture(null);
    }
    String secret = TokenRestService.newSecret();
    Command cmd = Command.newBuilder().setActor("lodestar").setCreateToken(CreateToken.newBuilder().setName(NAME)
        .setSecretSha256(Authorizer.digest(secret)).addAllPolicies(List.of("admin")).setBootstrap(true)).build();
    return commands.submit(cmd).handle((r, err) -> {
      if (err != null) {
        Throwable c = err.getCause() != null ? err.getCause() : err;
        if (c instanceof LodestarException le && le.code() == LodestarException.Code.UNAVAILABLE && left > 1) {
          // no majority yet (a cluster starting): try again in a second, unless another node's bootstrap wins
          CompletableFuture.delayedExecutor(1, java.util.concurrent.TimeUnit.SECONDS)
              .execute(() -> attempt(tokens, commands, dataDir, out, left - 1));
        } else if (!(c instanceof LodestarException le && le.code() == LodestarException.Code.ALREADY_EXISTS)) {
          log.warn("Could not create the bootstrap admin token: {}", c.getMessage());
        }
        return null;
      }
      Path file = dataDir.resolve(FILE);
      try {
        Files.createDirectories(dataDir);
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, secret + "\n", StandardOpenOption.WRITE, StandardOpenOption.SYNC);
      } catch (IOException | UnsupportedOperationException e) {
        log.warn("Could not write {}: {}", file.toAbsolutePath(), e.toString());
      }
      // the one time the secret is shown; stdout, not the log
      out.println("Bootstrap admin token (shown once; also in " + file.toAbsolutePath() + ", mode 600):");
      out.println("  " + secret);
      out.flush();
      log.info("Created the bootstrap admin token '{}' ({})", NAME, file.toAbsolutePath());
      return null;
    });
  }
}
