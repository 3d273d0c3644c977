package io.lodestar.client;

import com.google.protobuf.MessageLite;
import io.lodestar.client.internal.Logs;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Failover files: written to a temporary file (owner-only: configs may hold secrets) and renamed
 * into place, so a reader never sees half a file. Failure is logged, never thrown: the cache is a
 * fallback and must not break the caller.
 */
final class AtomicFiles {
  private static final Logger LOG = Logs.get(AtomicFiles.class.getName());

  private AtomicFiles() {}

  static void write(Path file, MessageLite message) {
    Path tmp = null;
    try {
      Files.createDirectories(file.getParent());
      try {
        tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException notPosix) {
        tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
      }
      try (OutputStream out = Files.newOutputStream(tmp)) {
        message.writeTo(out);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException notAtomic) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException | RuntimeException ex) {
      LOG.log(Level.WARNING, "could not write failover cache file " + file, ex);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }
}
