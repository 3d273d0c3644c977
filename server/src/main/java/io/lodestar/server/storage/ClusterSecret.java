package io.lodestar.server.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The cluster secret: one file of random bytes, the same on every member ({@code
 * --cluster-secret-file}), made once by the operator. Members derive from it, each use under its
 * own label, the keys they must share (the secret-config key, {@code SecretBox}), so a cluster
 * has one key by construction and no member invents its own. Its content is never logged.
 */
public final class ClusterSecret {
  /** Short enough to guess is no secret: 256 bits at least. */
  static final int MIN_BYTES = 32;
  /** How to make and give a cluster its secret; part of every message that asks for it. */
  public static final String HOW_TO_SHARE = "every node of a cluster needs the same cluster secret: create one file "
      + "once (head -c 32 /dev/urandom > cluster-secret; chmod 600 cluster-secret), copy it to each node and start "
      + "each with --cluster-secret-file";

  private ClusterSecret() {}

  /** The secret's bytes; refuses a missing or short file with a message that says what to do. */
  public static byte[] read(Path file) {
    try {
      byte[] raw = Files.readAllBytes(file);
      if (raw.length < MIN_BYTES) {
        throw new IllegalStateException("the cluster secret " + file + " has " + raw.length + " bytes, fewer than "
            + MIN_BYTES + "; " + HOW_TO_SHARE);
      }
      OwnerOnly.warnIfShared(file);
      return raw;
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("the cluster secret " + file + " does not exist; " + HOW_TO_SHARE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the cluster secret " + file, e);
    }
  }
}
