package io.lodestar.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * The CRC32C of a region of a file, read in chunks: a snapshot or backup is checked in one pass
 * before it is parsed in a second, so a damaged file is refused before any of it is applied and
 * neither pass holds the whole file.
 */
public final class FileCrc {
  private static final int CHUNK = 1 << 16;

  private FileCrc() {}

  /** The checksum of {@code [from, to)}, or of what there is of it when the file is shorter. */
  public static int crc32c(FileChannel ch, long from, long to) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
    for (long pos = from; pos < to; ) {
      chunk.clear();
      if (to - pos < CHUNK) {
        chunk.limit((int) (to - pos));
      }
      int n = ch.read(chunk, pos);
      if (n < 0) {
        break;
      }
      chunk.flip();
      crc.update(chunk);
      pos += n;
    }
    return (int) crc.getValue();
  }
}
