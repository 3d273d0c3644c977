package io.lodestar.server.storage;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory holds every registration, config and the secret key: nobody but the
 * server's user may read it. Directories are 0700 and files 0600, set at creation (never
 * readable by others, not even briefly) and repaired at start for a directory written by an older
 * version or by a library that creates files with the process umask (Ratis). On a file system
 * without POSIX permissions this does nothing.
 */
public final class OwnerOnly {
  private static final Logger log = LoggerFactory.getLogger(OwnerOnly.class);
  private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private OwnerOnly() {}

  /** Attributes for a new file: 0600. */
  public static FileAttribute<?>[] file() {
    return POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)} : new FileAttribute<?>[0];
  }

  /** Creates {@code dir} (and missing parents) as 0700. */
  public static Path createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return dir;
    }
    return POSIX ? Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR)) : Files.createDirectories(dir);
  }

  /** Creates the data directory if needed and makes everything in it owner-only. */
  public static void secure(Path dataDir) throws IOException {
    createDirectories(dataDir);
    if (!POSIX) {
      return;
    }
    int repaired = 0;
    try (Stream<Path> all = Files.walk(dataDir)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (Files.isSymbolicLink(p)) {
          continue;
        }
        Set<PosixFilePermission> want = Files.isDirectory(p) ? DIR : FILE;
        if (!Files.getPosixFilePermissions(p).equals(want)) {
          Files.setPosixFilePermissions(p, want);
          repaired++;
        }
      }
    }
    if (repaired > 0) {
      log.info("Made {} entries under {} owner-only (directories 0700, files 0600)", repaired,
          dataDir.toAbsolutePath());
    }
  }

  /** A secret file others can read: say so (the server still uses it; the operator decides). */
  public static void warnIfShared(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      if (p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
        log.warn("{} is readable by others ({}); it should be owner-only (chmod 600)", file,
            PosixFilePermissions.toString(p));
      }
    } catch (UnsupportedOperationException | IOException e) {
      // not a POSIX file system: nothing to check
    }
  }
}
