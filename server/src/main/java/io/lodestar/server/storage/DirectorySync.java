package io.lodestar.server.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file's name lives in its directory: syncing the file makes its bytes durable, not its
 * creation or a rename onto it. After a power loss the directory may still hold the old name,
 * or none, unless the directory itself was synced. Every step that others rely on once it
 * returns (a snapshot before its log is purged, a secret key before anything is encrypted with
 * it) syncs the directory too.
 */
public final class DirectorySync {
  private DirectorySync() {}

  /** Syncs {@code dir}'s entries to disk; where the file system cannot sync a directory, nothing. */
  public static void sync(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Not every file system lets a directory be opened or synced; the data files themselves are.
    }
  }
}
